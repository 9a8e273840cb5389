"""The trends' periodic recompute (Celery beat: ``CELERY_BEAT_SCHEDULE["refresh-trends"]``).
Carries nothing, calls one service, may run twice or be skipped: each run overwrites the
whole list, and a read rebuilds a missing one (docs/architecture.md#editorial-feed-and-suggestions)."""

from __future__ import annotations

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

RETRY_POLICY = {
    "autoretry_for": (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        OperationalError,
        InterfaceError,
    ),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    # Retrying longer than the schedule's interval is pointless: the next run starts afresh.
    "max_retries": 3,
    "acks_late": True,
    # A run queued behind a stalled worker is superseded by the next one: drop it.
    "expires": 120,
}


@shared_task(**RETRY_POLICY)
def refresh_trends() -> int:
    """Recompute the trending posts into Redis; returns how many there are."""
    from ranking.trends import trends_refresh

    return len(trends_refresh())
