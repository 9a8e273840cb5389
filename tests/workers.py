"""Real `celery worker` subprocesses for tests that need queue behaviour (no eager mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from feedsite.celery import app as celery_app

READY_TIMEOUT = 60
ALL_QUEUES = ("celery", "fanout", "fanout_bulk")


def _start(queues: Sequence[str], name: str, extra_env: dict[str, str]) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "feedsite.test_settings",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_REDIS_URL": settings.REDIS_URL,
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "feedsite", "worker", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", f"--hostname={name}@%h",
         f"--queues={','.join(queues)}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _drain(worker: subprocess.Popen) -> None:
    for _line in worker.stdout:
        pass


def _wait_ready(worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    output = []
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        output.append(line)
        if " ready." in line:
            # Keep reading its log: a full pipe would block the worker mid-task.
            threading.Thread(target=_drain, args=(worker,), daemon=True).start()
            return
        if worker.poll() is not None:
            pytest.fail("worker exited early:\n" + "".join(output))
    worker.kill()
    pytest.fail("worker not ready in time:\n" + "".join(output))


@contextmanager
def celery_workers(
    *specs: tuple[str, Sequence[str]], extra_env: dict[str, str] | None = None
) -> Iterator[list[subprocess.Popen]]:
    """Start one worker per ``(name, queues)`` against the test database and the test Redis
    broker (in parallel, they take seconds to boot), switch this process to real queueing,
    and stop them all afterwards."""
    workers = [_start(queues, name, extra_env or {}) for name, queues in specs]
    celery_app.conf.task_always_eager = False
    try:
        for worker in workers:
            _wait_ready(worker)
        yield workers
    finally:
        celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
