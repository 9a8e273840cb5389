"""Fan-out through a real Celery worker process and the real Redis broker (no eager mode)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.factories import AccountFactory, bulk_followers
from tests.helpers import timeline_raw
from tests.support.celery import ALL_QUEUES, celery_workers
from timelines.keys import timeline_key
from timelines.store import COMPLETE, TimelineStore

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DELIVERY_TIMEOUT = 60


@pytest.fixture
def celery_worker_process() -> Iterator[subprocess.Popen]:
    """A `celery worker` subprocess on every queue, using the test database and Redis."""
    with celery_workers(("test-worker", ALL_QUEUES)) as (worker,):
        yield worker


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


def _have_post(store: TimelineStore, user_ids: list[int], post_id: int) -> int:
    """How many of the users' timelines have the post on top."""
    with store.client.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.lindex(timeline_key(user_id), 0)
        heads = pipe.execute()
    return sum(1 for head in heads if head is not None and int(head) == post_id)


def _wait_for(predicate, what: str, pause: float = 0.02) -> None:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(pause)


def _other_backends() -> set[int]:
    """PostgreSQL server processes connected to the test database, other than this one's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_worker_keeps_its_database_connection_between_tasks(
    celery_worker_process, redis_store, warm_timelines, client_for
):
    """Celery's Django fixup would close it after every task (a new connection and server
    process per fan-out); the worker keeps it, as web requests do (feedsite.celery)."""
    author = AccountFactory()
    followers = [f.id for f in bulk_followers(author, 3)]
    warm_timelines(followers)
    seen = []
    for number in range(3):
        response = client_for(author).post("/api/posts/", {"body": f"post {number}"}, format="json")
        post_id = response.json()["id"]
        _wait_for(lambda: _have_post(redis_store, followers, post_id) == 3, "the post is delivered")  # noqa: B023
        seen.append(_other_backends())
    assert seen[0] and seen[0] == seen[1] == seen[2]


def test_small_post_is_delivered_while_a_big_fanout_is_still_running(redis_store, client_for):
    """Two real workers, one per queue: a post to 4,000 followers (1,000 chunks on
    fanout_bulk) does not hold up a post to 5 followers (fanout), which lands while the big
    one is still running. The bulk worker is frozen (SIGSTOP) as soon as the big fan-out has
    started, so "still running" holds however loaded the machine is; it then finishes."""
    call_command("feed_config", chunk_size=4)
    big, small = AccountFactory(), AccountFactory()
    big_fans = [f.id for f in bulk_followers(big, 4000, prefix="big")]
    small_fans = [f.id for f in bulk_followers(small, 5, prefix="small")]
    assert big.followers_count >= settings.FANOUT_BULK_THRESHOLD > small.followers_count
    with redis_store.client.pipeline(transaction=False) as pipe:  # built, empty timelines
        for user_id in big_fans + small_fans:
            pipe.rpush(timeline_key(user_id), COMPLETE)
        pipe.execute()

    with celery_workers(("fast", ["celery", "fanout"]), ("bulk", ["fanout_bulk"])) as (_fast, bulk):
        big_post = client_for(big).post("/api/posts/", {"body": "to everyone"}, format="json").json()["id"]
        _wait_for(lambda: _have_post(redis_store, big_fans, big_post) > 0, "the big fan-out started")
        bulk.send_signal(signal.SIGSTOP)  # its pool child may finish the chunk in hand
        try:
            started = time.monotonic()
            response = client_for(small).post("/api/posts/", {"body": "to a few"}, format="json")
            small_post = response.json()["id"]
            _wait_for(lambda: _have_post(redis_store, small_fans, small_post) == 5, "the small post arrived")
            small_latency = time.monotonic() - started
            reached = _have_post(redis_store, big_fans, big_post)
            assert reached < len(big_fans), "the big fan-out had already finished: nothing was shown"
            assert redis_store.client.llen("fanout_bulk") > 0  # its chunks wait in their own queue
        finally:
            bulk.send_signal(signal.SIGCONT)
        _wait_for(
            lambda: _have_post(redis_store, big_fans, big_post) == len(big_fans), "big post arrived", 0.2
        )
    print(
        f"\nsmall post delivered in {small_latency * 1000:.0f} ms while the big one had reached "
        f"{reached}/{len(big_fans)} and waited in fanout_bulk"
    )
