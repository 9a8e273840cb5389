"""A Celery worker SIGKILLed in the middle of a large fan-out: a new worker finishes it and
every follower has the post exactly once (acks_late + reject_on_worker_lost + the broker's
visibility timeout redeliver what the dead worker held; the Lua insert deduplicates)."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from posts.services import post_create
from tests.factories import AccountFactory, bulk_followers
from tests.support.procs import wait_for
from tests.support.stack import Stack, suite_database_url
from timelines.keys import timeline_key
from timelines.models import FeedConfig, PendingChunk
from timelines.store import COMPLETE

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FOLLOWERS = 10_000
CHUNK = 50  # 200 chunk tasks: a fan-out long enough to kill a worker in the middle of
# Short, for the test, yet longer than any task here takes (fanout_post enqueuing 200 chunks
# included): a message is redelivered while its task still runs if the timeout is shorter.
VISIBILITY_TIMEOUT = 10


def test_sigkilled_worker_mid_fanout_loses_and_duplicates_nothing(stack: Stack, redis_store):
    config = FeedConfig.load()
    config.fanout_chunk_size = CHUNK
    config.save()
    author = AccountFactory(fanout_override="push")  # above the celebrity threshold
    follower_ids = [f.id for f in bulk_followers(author, FOLLOWERS)]
    client = redis_store.client  # the suite's own Redis database: broker and timelines here
    keys = [timeline_key(u) for u in follower_ids]
    with client.pipeline(transaction=False) as pipe:  # built (empty, complete) timelines
        for key in keys:
            pipe.rpush(key, COMPLETE)
        pipe.execute()

    env = Stack.env(
        database_url=suite_database_url(),
        redis_url=settings.REDIS_URL,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )
    # It also prefetches a few chunks, which die with it unacknowledged, as in production.
    first = stack.worker(env, "doomed", "--prefetch-multiplier=4")
    post = post_create(author=author, body="a post to ten thousand followers")

    def delivered() -> int:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.lindex(key, 0)
            heads = pipe.execute()
        return sum(1 for head in heads if head is not None and int(head) == post.id)

    # Kill the whole worker (parent and pool child) once some, but not all, followers have it.
    wait_for(lambda: delivered() or None, timeout=60, what="the fan-out to start", interval=0.01)
    wait_for(lambda: client.hlen("unacked") > 1, timeout=10, what="chunks in flight", interval=0.001)
    first.kill()
    at_kill = delivered()
    in_flight = client.hlen("unacked")
    print(f"\nSIGKILL after {at_kill}/{FOLLOWERS} followers; {in_flight} unacknowledged message(s)")
    assert 0 < at_kill < FOLLOWERS, "the worker was not killed mid fan-out"
    assert in_flight >= 1  # what the dead worker held: redelivered after the visibility timeout

    # The new worker takes the queued chunks at once, and the dead worker's unacknowledged
    # ones once they are VISIBILITY_TIMEOUT old.
    started = time.monotonic()
    stack.worker(env, "rescuer")

    def drained() -> bool:
        queued = sum(client.llen(q) for q in ("celery", "fanout", "fanout_bulk"))
        return not queued and not client.hlen("unacked")

    wait_for(drained, timeout=90, what="the queues to drain, redelivered messages included")
    # A message the dead worker had popped but not yet recorded as unacknowledged is gone from
    # the broker; its chunk is still in PendingChunk, and the sweeper sends it again.
    lost = PendingChunk.objects.count()
    call_command("sweep_fanout", "--grace", "0", stdout=StringIO())
    wait_for(lambda: delivered() == FOLLOWERS, timeout=60, what="every follower to get the post")
    wait_for(lambda: not PendingChunk.objects.exists(), timeout=30, what="every chunk to be written")
    print(f"chunks the broker lost with the worker, re-sent by the sweeper: {lost}")
    print(f"new worker finished the fan-out in {time.monotonic() - started:.1f} s")
    wait_for(lambda: client.hlen("unacked") == 0, timeout=30, what="the redelivered messages to be acked")

    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.lrange(key, 0, -1)
        timelines = pipe.execute()
    assert all([int(x) for x in raw] == [post.id, COMPLETE] for raw in timelines)  # exactly once
    post.refresh_from_db()
    assert post.fanout_state == "done"
