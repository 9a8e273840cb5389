"""Fan-out through a real Celery worker process and the real Redis broker (no eager mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from feedsite.celery import app as celery_app
from tests.factories import AccountFactory, bulk_followers
from tests.helpers import timeline_raw
from timelines.store import COMPLETE

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

READY_TIMEOUT = 60
DELIVERY_TIMEOUT = 60


@pytest.fixture
def celery_worker_process() -> Iterator[subprocess.Popen]:
    """A `celery worker` subprocess using the test database and test Redis as broker."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "feedsite.test_settings",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "feedsite", "worker", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname=test-worker@%h"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT
    output = []
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        output.append(line)
        if " ready." in line:
            break
        if worker.poll() is not None:
            pytest.fail("worker exited early:\n" + "".join(output))
    else:
        worker.kill()
        pytest.fail("worker not ready in time:\n" + "".join(output))
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_real_worker_delivers_a_post_to_1000_followers(
    celery_worker_process, redis_store, warm_timelines, client_for
):
    author = AccountFactory()
    followers = bulk_followers(author, 1000)
    warm_timelines(f.id for f in followers)

    started = time.monotonic()
    response = client_for(author).post("/api/posts/", {"body": "hello, world"}, format="json")
    assert response.status_code == 201
    post_id = response.json()["id"]

    pending = {f.id for f in followers}
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while pending and time.monotonic() < deadline:
        with redis_store.client.pipeline(transaction=False) as pipe:
            for user_id in pending:
                pipe.lindex(f"tl:{{{user_id}}}", 0)
            heads = pipe.execute()
        pending = {u for u, head in zip(pending, heads, strict=True) if head is None or int(head) != post_id}
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert not pending, f"{len(pending)} followers never got the post"
    print(f"\nreal worker: post reached 1000 followers in {elapsed * 1000:.0f} ms")
    assert all(timeline_raw(redis_store, f.id) == [post_id, COMPLETE] for f in followers)
    assert celery_worker_process.poll() is None
