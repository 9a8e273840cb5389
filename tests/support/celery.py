"""Real ``celery worker`` processes: one command line, and a worker whose log is read as it
comes (so its pipe never fills and blocks it mid-task), for the tests and for the bench.

``celery_workers`` runs workers against this xdist worker's own test database and Redis db
and switches this process to real queueing; ``celery_worker`` runs one against any
environment (the bench's) and parses Celery's task success lines.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from tests.support.procs import READY_TIMEOUT, ROOT, stop, suite_env

ALL_QUEUES = ("celery", "fanout", "fanout_bulk")
READY = " ready."  # the line Celery logs once it consumes
LOG_LINES = 2000  # kept for error messages

# "[2026-11-21 08:00:00,123: INFO/ForkPoolWorker-1] Task timelines.tasks.fanout_chunk[id]
# succeeded in 0.0012s: 1000": Celery's own success line, with the task's return value.
_SUCCESS = re.compile(
    r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*Task timelines\.tasks\.(\w+)\[[^\]]+\] "
    r"succeeded in ([0-9.e-]+)s: (-?\d+)"
)


def worker_args(*, name: str, queues: Sequence[str] = ALL_QUEUES, concurrency: int = 1) -> list[str]:
    """``celery worker`` (prefork, ``concurrency`` processes) on ``queues``, named ``name@host``,
    without the gossip, mingle and heartbeat chatter a single-worker test has no use for."""
    return [sys.executable, "-m", "celery", "-A", "feedsite", "worker", f"--concurrency={concurrency}",
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname={name}@%h", f"--queues={','.join(queues)}"]  # fmt: skip


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
    ready: threading.Event = field(default_factory=threading.Event)  # set once booted or exited
    booted: bool = False

    def next_done(self, timeout: float) -> TaskDone:
        return self.done.get(timeout=timeout)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        if not self.ready.wait(timeout) or not self.booted:
            reason = "exited before it was ready" if self.ready.is_set() else f"not ready in {timeout:.0f} s"
            raise RuntimeError(f"celery worker {reason}:\n" + "".join(self.log[-30:]))

    def _pump(self) -> None:
        for line in self.process.stdout:
            if len(self.log) < LOG_LINES:
                self.log.append(line)
            if READY in line:
                self.booted = True
                self.ready.set()
            match = _SUCCESS.search(line)
            if match:
                stamp, name, runtime, result = match.groups()
                finished = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
                self.done.put(TaskDone(name, finished, float(runtime), int(result)))
        self.ready.set()  # it exited: wait_ready says so instead of waiting out its timeout


def worker_start(env: dict[str, str], **args) -> Worker:
    """Start a worker (``worker_args``) with ``env``; it boots in the background."""
    process = subprocess.Popen(
        worker_args(**args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    worker = Worker(process)
    threading.Thread(target=worker._pump, daemon=True).start()
    return worker


@contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int = 1, name: str = "") -> Iterator[Worker]:
    """One worker on every queue, ready when yielded, stopped (SIGTERM) afterwards."""
    worker = worker_start(env, name=name or f"worker-{os.getpid()}-{concurrency}", concurrency=concurrency)
    try:
        worker.wait_ready()
        yield worker
    finally:
        stop(worker.process)


@contextmanager
def celery_workers(
    *specs: tuple[str, Sequence[str]], extra_env: dict[str, str] | None = None
) -> Iterator[list[subprocess.Popen]]:
    """Start one worker per ``(name, queues)`` against the test database and the test Redis
    broker (in parallel, they take seconds to boot), switch this process to real queueing,
    and stop them all afterwards."""
    from django.conf import settings

    from feedsite.celery import app as celery_app

    env = suite_env(**(extra_env or {}))
    workers = [worker_start(env, name=name, queues=queues) for name, queues in specs]
    celery_app.conf.task_always_eager = False
    try:
        for worker in workers:
            worker.wait_ready()
        yield [worker.process for worker in workers]
    finally:
        celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            stop(worker.process)
