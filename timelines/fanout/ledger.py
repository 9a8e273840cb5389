"""The ledger: PostgreSQL's record of fan-out work not known to be finished, and the sweeper.

Three kinds of entry (docs/architecture.md#fan-out): a post whose fan-out is pending
(``Post.fanout_state``), a chunk handed to the broker but not yet pushed (``PendingChunk``),
and a timeline that missed an after-commit update while Redis was down (``StaleTimeline``).
The sweeper re-enqueues pending posts and chunks (chunks as replays) through
``timelines.fanout.enqueue`` and drops stale timelines, so nothing is lost when a broker
message or a Redis write is. Losing a ledger row is safe: see the SQL below.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from posts.models import FanoutState, Post
from timelines import store
from timelines.fanout.enqueue import fanout_chunk_enqueue, fanout_enqueue
from timelines.keys import chunk_digest, timeline_key
from timelines.models import FeedConfig, PendingChunk, StaleTimeline

# PendingChunk rows are bookkeeping, written on every multi-chunk fan-out, so in raw SQL (the
# ORM's preparation of thousands of array elements cost more: measured, see
# docs/performance.md) and committed with synchronous_commit off, set inside the statement so
# it costs no round trip. Losing them in a PostgreSQL crash is safe: an INSERT is followed by
# the post's synchronous fanout_finish, whose WAL flush covers it (if the crash comes first,
# the post is still pending and the sweeper redoes it all), and a lost DELETE only makes the
# sweeper re-send a pushed chunk as a deduplicating replay.
_PENDING_CHUNK_INSERT = f"""
INSERT INTO {PendingChunk._meta.db_table} (post_id, digest, user_ids, queue, sent_at)
SELECT %(post)s, %(digest)s, %(ids)s::bigint[], %(queue)s, %(now)s
FROM set_config('synchronous_commit', 'off', true)
ON CONFLICT (post_id, digest) DO NOTHING
"""
_PENDING_CHUNK_DELETE = f"""
DELETE FROM {PendingChunk._meta.db_table}
WHERE post_id = %(post)s AND digest = %(digest)s AND set_config('synchronous_commit', 'off', true) = 'off'
"""


def fanout_chunk_sent(*, post_id: int, user_ids: Sequence[int], queue: str) -> None:
    """Record a chunk about to be handed to the broker (see PendingChunk); a re-run fan-out
    sending the same chunk again records it once."""
    ids = "{" + ",".join(map(str, user_ids)) + "}"
    params = {
        "post": post_id,
        "digest": chunk_digest(user_ids),
        "ids": ids,
        "queue": queue,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_CHUNK_INSERT, params)


def fanout_chunk_done(*, post_id: int, digest: str) -> None:
    """Clear a pushed chunk's record (``digest``: its ``chunk_digest``)."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_CHUNK_DELETE, {"post": post_id, "digest": digest})


def fanout_finish(*, post_id: int) -> None:
    """Record in PostgreSQL that the post no longer needs the sweeper: its outbox insert is
    done, or every follower chunk is in the broker (a chunk whose worker dies is redelivered)."""
    Post.objects.filter(id=post_id, fanout_state=FanoutState.PENDING).update(fanout_state=FanoutState.DONE)


def fanout_reopen(*, post_id: int) -> None:
    """A fan-out task gave up (retries exhausted): make the post pending again so the sweeper
    redoes its whole fan-out later rather than leaving some followers without it."""
    Post.objects.filter(id=post_id).update(fanout_state=FanoutState.PENDING, fanout_swept_at=timezone.now())


def timeline_mark_stale(*, user_id: int) -> None:
    """Redis was unavailable for an after-commit timeline update: remember it in PostgreSQL."""
    StaleTimeline.objects.get_or_create(user_id=user_id)


def timelines_drop_stale(*, limit: int = 10_000) -> int:
    """Drop the cached timelines marked stale (rebuilt from PostgreSQL on their next read).
    Returns how many; raises Redis's error, keeping the marks, if it is still unavailable."""
    stale = list(StaleTimeline.objects.order_by("id").values_list("id", "user_id")[:limit])
    if stale:
        lists = store.get_store()
        for _, user_id in stale:  # rare: only after an outage
            lists.discard(key=timeline_key(user_id))
        StaleTimeline.objects.filter(id__in=[row_id for row_id, _ in stale]).delete()
    return len(stale)


def fanout_sweep(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """The sweeper: enqueue fan-out again for posts still pending after ``older_than``: their
    first enqueue failed (broker down) or their message was lost (broker flushed or
    restarted) before a worker finished it. Chunks sent that long ago and still not pushed
    (PendingChunk) are sent again too, as replays. Fan-out is idempotent, so a post that was
    merely slow is only delivered once. Each post is retried at most once per ``older_than``.
    Returns the ids enqueued; if the broker is still down, raises its error after recording
    those enqueued."""
    now = timezone.now()
    cutoff = now - older_than
    rows = list(
        Post.objects.filter(fanout_state=FanoutState.PENDING, created_at__lt=cutoff)
        .filter(Q(fanout_swept_at__isnull=True) | Q(fanout_swept_at__lt=cutoff))
        .order_by("id")
        .values_list("id", "delivery", "author__followers_count")[:limit]
    )
    cap = FeedConfig.load().timeline_length
    for chunk in PendingChunk.objects.filter(sent_at__lt=cutoff).order_by("id")[:limit]:
        # Each chunk at most once per grace period; a replay, since part of it may be pushed.
        PendingChunk.objects.filter(id=chunk.id).update(sent_at=now)
        fanout_chunk_enqueue(
            post_id=chunk.post_id, user_ids=chunk.user_ids, cap=cap, replay=True, queue=chunk.queue
        )
    enqueued: list[int] = []
    try:
        for post_id, delivery, audience in rows:
            fanout_enqueue(post_id=post_id, delivery=delivery, audience=audience)
            enqueued.append(post_id)
    finally:
        Post.objects.filter(id__in=enqueued).update(fanout_swept_at=now)
    return enqueued


def ledger_sweep(*, older_than: timedelta, limit: int = 1000) -> tuple[int, list[int]]:
    """One pass of the sweeper (the ``sweep_fanout`` task and command): drop the stale
    timelines, then re-enqueue what ``fanout_sweep`` finds. Returns how many timelines were
    dropped and the post ids enqueued."""
    dropped = timelines_drop_stale()
    return dropped, fanout_sweep(older_than=older_than, limit=limit)
