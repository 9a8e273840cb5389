"""Real server processes for the benchmarks: Celery workers and gunicorn on free ports."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# "[2026-11-21 08:00:00,123: INFO/ForkPoolWorker-1] Task timelines.tasks.fanout_chunk[id]
# succeeded in 0.0012s: 1000": Celery's own success line, with the task's return value.
_SUCCESS = re.compile(
    r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*Task timelines\.tasks\.(\w+)\[[^\]]+\] "
    r"succeeded in ([0-9.e-]+)s: (-?\d+)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class TaskDone:
    name: str  # fanout_post or fanout_chunk
    finished: float  # epoch seconds (log timestamp, ms resolution)
    runtime: float
    result: int


@dataclass
class Worker:
    process: subprocess.Popen
    done: queue.Queue = field(default_factory=queue.Queue)
    log: list[str] = field(default_factory=list)

    def next_done(self, timeout: float) -> TaskDone:
        return self.done.get(timeout=timeout)


def _pump(worker: Worker, ready: threading.Event) -> None:
    for line in worker.process.stdout:
        if len(worker.log) < 2000:
            worker.log.append(line)
        if " ready." in line:
            ready.set()
        match = _SUCCESS.search(line)
        if match:
            stamp, name, runtime, result = match.groups()
            finished = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            worker.done.put(TaskDone(name, finished, float(runtime), int(result)))


@contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int) -> Iterator[Worker]:
    """A real ``celery worker`` (prefork, ``concurrency`` processes) whose success lines are
    parsed as they come, so the bench knows when each task finished without polling Redis."""
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "feedsite", "worker", f"--concurrency={concurrency}",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--queues", "fanout,fanout_bulk,celery",
         f"--hostname=bench-{os.getpid()}-{concurrency}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = Worker(process)
    ready = threading.Event()
    threading.Thread(target=_pump, args=(worker, ready), daemon=True).start()
    try:
        if not ready.wait(60):
            raise RuntimeError("celery worker not ready in 60 s:\n" + "".join(worker.log[-30:]))
        yield worker
    finally:
        _stop(process)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    """The API under gunicorn (sync workers, as ``make run``) on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "feedsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/nothing/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # the JSON 404: it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + (process.stderr.read() or "")) from None
                time.sleep(0.2)
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
