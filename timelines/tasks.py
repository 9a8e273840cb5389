"""Fan-out tasks. Thin: they carry ids, call timelines.services, and may run twice.

``acks_late`` + ``reject_on_worker_lost`` (settings) mean a chunk whose worker dies is
delivered again; every chunk is claimed in Redis before it pushes, so a redelivered, retried
or re-sent chunk deduplicates and a replay never duplicates a post. Redis and
database errors are retried with jittered exponential backoff; the longest countdown stays
well under the broker's visibility timeout so a waiting retry is not redelivered early.
"""

from __future__ import annotations

from datetime import timedelta

import redis
from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from timelines import selectors, services
from timelines.store import CLUSTER_TRANSIENT_ERRORS

RETRYABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,  # includes ReplicaAckTimeout
    *CLUSTER_TRANSIENT_ERRORS,  # a failover or slot move under way
    redis.exceptions.NoScriptError,  # a restarted node; the retry loads the script again
    OperationalError,
    InterfaceError,
    services.ReplicaBehind,
)


class FanoutTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries exhausted or an unexpected error: the sweeper takes the post over.
        services.fanout_reopen(post_id=args[0] if args else kwargs["post_id"])


RETRY_POLICY = {
    "base": FanoutTask,
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
    chunks = 0
    if plan is not None:
        first = None
        for user_ids in plan.follower_batches:
            if first is None:
                first = user_ids
                continue
            services.fanout_chunk_sent(post_id=plan.post_id, user_ids=user_ids, queue=plan.queue)
            fanout_chunk_enqueue(
                post_id=plan.post_id, user_ids=user_ids, cap=plan.cap, replay=plan.replay, queue=plan.queue
            )
            chunks += 1
        services.fanout_first_batch(plan=plan, user_ids=first or [])
    # Only now: if this worker dies before here, the message is redelivered (acks_late) or,
    # if the broker lost it, the post is still pending for the sweeper.
    services.fanout_finish(post_id=post_id)
    return chunks


@shared_task(ignore_result=True)
def sweep_fanout() -> int:
    """Periodic (Celery beat, CELERY_BEAT_SCHEDULE): re-enqueue posts whose fan-out did not
    complete. Also ``manage.py sweep_fanout``."""
    older_than = timedelta(seconds=settings.FANOUT_SWEEP_GRACE_SECONDS)
    services.timelines_drop_stale()
    return len(services.fanout_sweep(older_than=older_than))


def fanout_chunk_enqueue(*, post_id: int, user_ids: list[int], cap: int, replay: bool, queue: str) -> None:
    """Send one chunk task. Its log representation names the ids instead of listing them:
    Celery's own repr of thousands of ids cost more than encoding the message."""
    argsrepr = f"({post_id}, <{len(user_ids)} follower ids>, {cap}, {replay})"
    fanout_chunk.apply_async(args=[post_id, user_ids, cap, replay], queue=queue, argsrepr=argsrepr)


@shared_task(**RETRY_POLICY)
def fanout_chunk(post_id: int, user_ids: list[int], cap: int, replay: bool = False) -> int:
    """Push one post id into a batch of timelines; ``replay`` forces deduplication."""
    return services.fanout_chunk_deliver(post_id=post_id, user_ids=user_ids, cap=cap, replay=replay)
