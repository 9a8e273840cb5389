"""Free ports, waiting for a condition, stopping a process, and the environment of a child
process (``child_env``; ``suite_env`` for one pointed at this xdist worker's databases).

Ports come from the kernel (bind port 0) at run time, never from a fixed list: several suites
and xdist workers share this machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60


def free_port() -> int:
    """A port nothing listens on right now (bind port 0 and let the kernel pick)."""
    (port,) = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """Ports the OS says are free; all held open together so none is handed out twice."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    ignore: tuple[type[BaseException], ...] = (),
):
    """Poll ``predicate`` until it returns something true and return that; exceptions of the
    ``ignore`` types count as "not yet". Raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except ignore as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


def die_with_parent() -> None:
    """preexec_fn: the kernel kills the server if the process that started it dies, so a
    killed test run or benchmark leaves no server behind on this shared machine (Linux)."""
    with contextlib.suppress(OSError):  # no glibc: best effort
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def stop(popen: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Send ``sig`` if it still runs, wait up to ``timeout`` s, then SIGKILL."""
    if popen.poll() is None:
        popen.send_signal(sig)
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment for an app subprocess, less pytest's and xdist's own
    variables (a child must not take itself for an xdist worker and shift its Redis db
    again: feedsite/test_settings.py), plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(overrides)
    return env


def suite_env(**overrides: str) -> dict[str, str]:
    """For an app subprocess of a test (Celery worker, gunicorn): the test settings, real
    queueing, this xdist worker's own test database and Redis db, plus ``overrides``."""
    from django.conf import settings
    from django.db import connection

    from tests.support.postgres import database_url

    return child_env(
        DJANGO_SETTINGS_MODULE="feedsite.test_settings",
        CELERY_TASK_ALWAYS_EAGER="0",
        DATABASE_URL=database_url(connection.settings_dict),
        TEST_REDIS_URL=settings.REDIS_URL,
        **overrides,
    )


@dataclass
class Process:
    """A subprocess in its own session (so a SIGKILL reaches its children too), logging to a
    file the test prints on failure."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = self.log.open("a")
        self.popen = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 20) -> None:
        if not self.alive:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
