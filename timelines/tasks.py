"""Fan-out tasks. Thin: they carry ids, call timelines.services, and may run twice.

``acks_late`` + ``reject_on_worker_lost`` (settings) mean a chunk whose worker dies is
delivered again; every chunk is claimed in Redis before it pushes, so a redelivered, retried
or re-sent chunk deduplicates and a replay never duplicates a post. Redis and
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
    """Route a new post: outbox for pull mode; else one chunk task per follower batch but the
    first, which this task pushes itself after enqueueing the others (so most posts, whose
    authors have fewer followers than a chunk, need no second task). Returns the number of
    chunk tasks enqueued."""
    plan = services.fanout_start(post_id=post_id)
    if plan is None:
        return 0
    first, chunks = None, 0
    for user_ids in plan.follower_batches:
        if first is None:
            first = user_ids
            continue
        fanout_chunk.apply_async(args=[plan.post_id, user_ids, plan.cap, plan.replay], queue=plan.queue)
        chunks += 1
    if first:
        services.timelines_push(post_id=plan.post_id, user_ids=first, cap=plan.cap, replay=plan.replay)
    return chunks


@shared_task(**RETRY_POLICY)
def fanout_chunk(post_id: int, user_ids: list[int], cap: int, replay: bool = False) -> int:
    """Push one post id into a batch of timelines; ``replay`` forces deduplication."""
    return services.timelines_push(post_id=post_id, user_ids=user_ids, cap=cap, replay=replay)
