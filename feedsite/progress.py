"""Progress output for long management commands: a bar redrawn in place on a terminal, one
line per 10% step otherwise (logs, CI), so output stays short either way."""

from __future__ import annotations

import time
from typing import TextIO

from django.core.management.base import OutputWrapper

BAR_WIDTH = 30


class ProgressBar:
    """Callable as ``progress(stage, done, total)``, the signature the generators and
    rebuild loops report with."""

    def __init__(self, stream: TextIO | OutputWrapper, *, min_interval: float = 0.2) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.min_interval = min_interval
        self._stage: str | None = None
        self._started = 0.0
        self._last_draw = 0.0
        self._last_decile = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self._stage:
            self._stage, self._started, self._last_draw, self._last_decile = stage, now, 0.0, -1
        finished = total <= 0 or done >= total
        fraction = 1.0 if total <= 0 else min(1.0, done / total)
        elapsed = now - self._started
        if self.tty:
            if not finished and now - self._last_draw < self.min_interval:
                return
            filled = round(fraction * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            line = f"\r{stage:>10} [{bar}] {fraction:4.0%} {done:,}/{total:,} {elapsed:6.1f}s"
            self._write(line + ("\n" if finished else ""))
            self.stream.flush()
            self._last_draw = now
            return
        decile = int(fraction * 10)
        if decile > self._last_decile:
            self._last_decile = decile
            self._write(f"{stage}: {done:,}/{total:,} ({fraction:.0%}) {elapsed:.1f}s\n")

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")  # it would add a newline of its own
        else:
            self.stream.write(text)
