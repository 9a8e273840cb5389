"""gunicorn on a free port, and a tiny JSON client for a server under test (urllib: no extra
dependency)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.procs import READY_TIMEOUT, ROOT, free_port, stop, wait_for


def gunicorn_args(port: int, *, workers: int = 2, extra: tuple[str, ...] = ()) -> list[str]:
    """The API under gunicorn (sync workers, as ``make run``) on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "gunicorn", "feedsite.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), *extra]  # fmt: skip


@dataclass
class Http:
    base: str
    timeout: float = 15

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        return status, headers, (json.loads(raw) if raw else None)


def http_wait(http: Http, *, alive: Callable[[], None], timeout: float = READY_TIMEOUT) -> None:
    """Until the server answers (the JSON 404 of an unknown path); ``alive`` raises if the
    server process has exited meanwhile."""

    def answers() -> bool:
        alive()
        try:
            return http.call("GET", "/api/nothing/")[0] == 404
        except OSError:
            return False

    wait_for(answers, timeout=timeout, what="gunicorn", interval=0.1)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    """gunicorn with ``env`` on a free port, answering when yielded; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        gunicorn_args(port, workers=workers, extra=("--log-level", "warning")),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    http = Http(f"http://127.0.0.1:{port}", timeout=1)

    def alive() -> None:
        if process.poll() is not None:
            raise RuntimeError("gunicorn did not start:\n" + (process.stderr.read() or ""))

    try:
        http_wait(http, alive=alive)
        yield http.base
    finally:
        stop(process)
