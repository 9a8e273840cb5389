"""How long cached lists live, and when a reader counts as active
(docs/architecture.md#lifecycle).

A reader's timeline expires within ``inactive_days`` of their last recorded read, so fan-out
(which never creates a list) stops writing to readers inactive that long; expiries are
jittered so lists built together expire apart.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from graph.models import Account
from timelines import store
from timelines.keys import timeline_key
from timelines.models import FeedConfig

# A reader's last_feed_read_at is written at most this often (one UPDATE an hour per reader).
ACTIVITY_RESOLUTION = timedelta(hours=1)
# Expiries are jittered by up to this fraction, so lists built together expire apart.
EXPIRY_JITTER = 0.1


def timeline_ttl_ms(config: FeedConfig, *, last_read: datetime | None) -> int:
    """How long a reader's timeline may live from now: it expires within ``inactive_days`` of
    their last recorded read (``last_feed_read_at``), jittered downwards, so fan-out (LPUSHX,
    which never creates a list) cannot write the timeline of a reader inactive that long.
    0 or less when that moment has passed (or they never read): the list must not be kept."""
    if last_read is None:
        return 0
    window = timedelta(days=config.inactive_days) * (1 - EXPIRY_JITTER * random.random())
    return int((last_read + window - timezone.now()).total_seconds() * 1000)


def outbox_ttl_ms(config: FeedConfig) -> int:
    """A quiet author's outbox expires after the inactivity period, plus up to EXPIRY_JITTER
    of it at random; each new post extends it."""
    seconds = timedelta(days=config.inactive_days).total_seconds()
    return int(seconds * 1000 * (1 + EXPIRY_JITTER * random.random()))


def reader_seen(*, viewer: Account, config: FeedConfig) -> bool:
    """Record that the viewer reads their feed, at most once per ACTIVITY_RESOLUTION; returns
    True when it did (the caller then extends the timeline's expiry from the new stamp).

    A reader back after ``inactive_days`` should have no timeline left (timeline_ttl_ms); one
    whose expiry was set under a longer window (``inactive_days`` lowered since) is dropped
    here all the same, and the read that follows rebuilds it from PostgreSQL."""
    now = timezone.now()
    last = viewer.last_feed_read_at
    if last is not None and now - last < ACTIVITY_RESOLUTION:
        return False
    if last is None or last < now - timedelta(days=config.inactive_days):
        store.get_store().discard(key=timeline_key(viewer.id))
    Account.objects.filter(pk=viewer.pk).update(last_feed_read_at=now)
    viewer.last_feed_read_at = now
    return True
