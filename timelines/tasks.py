"""Fan-out tasks. Thin: they carry ids, call one service each, and may run twice.

``acks_late`` + ``reject_on_worker_lost`` (settings) mean a task whose worker dies is
delivered again; claims make every such replay deduplicate (docs/architecture.md#fan-out).
Redis and database errors are retried with jittered exponential backoff; the longest
countdown stays well under the broker's visibility timeout, so a waiting retry is not
redelivered early. Services are imported inside the task bodies: ``timelines.fanout.enqueue``
imports this module, never the other way round. The registered names
(``timelines.tasks.fanout_post``…) are part of the message format: keep them.
"""

from __future__ import annotations

from datetime import timedelta

import redis
from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from timelines.fanout.plan import ReplicaBehind
from timelines.store import CLUSTER_TRANSIENT_ERRORS

RETRYABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,  # includes ReplicaAckTimeout
    *CLUSTER_TRANSIENT_ERRORS,  # a failover or slot move under way
    redis.exceptions.NoScriptError,  # a restarted node; the retry loads the script again
    OperationalError,
    InterfaceError,
    ReplicaBehind,
)


class FanoutTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        from timelines.fanout.ledger import fanout_reopen

        # Retries exhausted or an unexpected error: the sweeper takes the post over.
        fanout_reopen(post_id=args[0] if args else kwargs["post_id"])


RETRY_POLICY = {
    "base": FanoutTask,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
    "acks_late": True,
}


@shared_task(**RETRY_POLICY)
def fanout_post(post_id: int) -> int:
    """A new post's fan-out (``timelines.fanout.push.fanout_run``); returns the number of
    chunk tasks enqueued."""
    from timelines.fanout.push import fanout_run

    return fanout_run(post_id=post_id)


@shared_task(**RETRY_POLICY)
def fanout_chunk(
    post_id: int, user_ids: list[int], cap: int, replay: bool = False, author_id: int = 0
) -> int:
    """Push one post id into a batch of timelines; ``replay`` forces deduplication.
    ``author_id`` came later (messages without it load it)."""
    from timelines.fanout.push import fanout_push

    return fanout_push(post_id=post_id, user_ids=user_ids, cap=cap, replay=replay, author_id=author_id)


@shared_task(ignore_result=True)
def sweep_fanout() -> int:
    """Periodic (Celery beat, CELERY_BEAT_SCHEDULE): re-enqueue posts whose fan-out did not
    complete, and drop timelines marked stale. Also ``manage.py sweep_fanout``."""
    from timelines.fanout.ledger import ledger_sweep

    _dropped, enqueued = ledger_sweep(older_than=timedelta(seconds=settings.FANOUT_SWEEP_GRACE_SECONDS))
    return len(enqueued)
