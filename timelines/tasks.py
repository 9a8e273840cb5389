"""Fan-out tasks. Thin: they carry ids, call timelines.services, and may run twice.

``acks_late`` + ``reject_on_worker_lost`` (settings) mean a chunk whose worker dies is
delivered again; the Lua insert is idempotent, so a replay never duplicates a post. Redis and
database errors are retried with jittered exponential backoff; the longest countdown stays
well under the broker's visibility timeout so a waiting retry is not redelivered early.
"""

from __future__ import annotations

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from timelines import selectors, services

RETRYABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    services.ReplicaBehind,
)
RETRY_POLICY = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
    "acks_late": True,
}


def fanout_post_enqueue(*, post_id: int, delivery: str, audience: int) -> str:
    """Queue a new post's fan-out where its audience size says (see
    selectors.fanout_queue); returns the queue."""
    queue = selectors.fanout_queue(delivery=delivery, audience=audience)
    fanout_post.apply_async(args=[post_id], queue=queue)
    return queue


@shared_task(**RETRY_POLICY)
def fanout_post(post_id: int) -> int:
    """Route a new post: outbox for pull mode, else enqueue one chunk task per follower batch.
    Returns the number of chunks enqueued."""
    plan = services.fanout_start(post_id=post_id)
    if plan is None:
        return 0
    chunks = 0
    for user_ids in plan.follower_batches:
        fanout_chunk.apply_async(args=[plan.post_id, user_ids, plan.cap], queue=plan.queue)
        chunks += 1
    return chunks


@shared_task(**RETRY_POLICY)
def fanout_chunk(post_id: int, user_ids: list[int], cap: int) -> int:
    """Push one post id into a batch of timelines in one Redis round trip."""
    return services.timelines_push(post_id=post_id, user_ids=user_ids, cap=cap)
