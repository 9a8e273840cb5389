"""The stream server (feedsite.streaming.asgi under uvicorn) on a free port, answering its
health check when yielded."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.procs import READY_TIMEOUT, ROOT, die_with_parent, free_port, stop, wait_for

HEALTH_PATH = "/api/v1/streaming/health"


def uvicorn_args(port: int, *, extra: tuple[str, ...] = ()) -> list[str]:
    """The stream server as ``make run`` starts it, on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "uvicorn", "feedsite.streaming.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", *extra]  # fmt: skip


def uvicorn_answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + HEALTH_PATH, timeout=1) as response:
            return response.status == 200 and response.read() == b"OK"
    except OSError:
        return False


@contextmanager
def uvicorn(env: dict[str, str], *, port: int | None = None) -> Iterator[str]:
    """uvicorn with ``env`` on a free port (or ``port``), healthy when yielded; yields its URL."""
    port = port or free_port()
    process = subprocess.Popen(
        uvicorn_args(port, extra=("--log-level", "warning")), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError("uvicorn did not start:\n" + (process.stderr.read() or ""))
        return uvicorn_answers(base)

    try:
        wait_for(ready, timeout=READY_TIMEOUT, what="uvicorn", interval=0.1)
        yield base
    finally:
        stop(process)
