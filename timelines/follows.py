"""What a follow, unfollow, block or mute does to the follower's cached timeline.

Only density is at stake here: visibility is decided by PostgreSQL at page load
(docs/architecture.md#visibility), so a timeline that keeps an unfollowed author's ids shows
none of them, and one that misses a backfill is exact above its horizon
(docs/architecture.md#timeline-store). The hooks run after the graph change commits; a Redis
failure then must not turn a committed change into a 500, so the timeline is marked stale in
the ledger instead, and rebuilt once Redis is back. Each hook also tells the reader's open
streams, after commit, that their graph changed (docs/architecture.md#publishing).
"""

from __future__ import annotations

from django.db import transaction

from feedsite import metrics
from posts.models import Delivery
from timelines import store
from timelines.fanout.ledger import timeline_mark_stale
from timelines.feed import visibility
from timelines.keys import timeline_key
from timelines.models import FeedConfig
from timelines.streams import publish_graph_change


def timeline_backfill_author(*, user_id: int, author_id: int) -> int:
    """After a follow (or unmute): merge the author's recent pushed posts into the timeline.

    If the author has more posts than we merge, the timeline is cut at the oldest merged one
    so it stays exact above its horizon; older pages then come from PostgreSQL. The author's
    pull-mode posts need nothing here: readers pull them from the outbox."""
    config = FeedConfig.load()
    limit = config.follow_backfill
    ids = visibility.author_post_ids(author_id=author_id, delivery=Delivery.PUSH, limit=limit + 1)
    boundary = 0
    if len(ids) > limit:
        ids = ids[:limit]
        boundary = ids[-1]
    added = store.get_store().insert(
        key=timeline_key(user_id), post_ids=ids, cap=config.timeline_length, boundary=boundary
    )
    metrics.TIMELINE_WRITES.labels(kind="backfill").inc(added or 0)
    return added or 0  # an unbuilt timeline gets everything when it is first read


def timeline_remove_author(*, user_id: int, author_id: int) -> int:
    """After an unfollow, block or mute: drop the author's posts from the timeline."""
    config = FeedConfig.load()
    ids = visibility.author_post_ids(
        author_id=author_id, delivery=Delivery.PUSH, limit=config.timeline_length, include_deleted=True
    )
    return store.get_store().remove(key=timeline_key(user_id), post_ids=ids)


def timeline_author_added(*, user_id: int, author_id: int) -> None:
    """Hook for a follow or an unmute: backfill the author's posts once the change commits."""
    _after_commit(timeline_backfill_author, user_id=user_id, author_id=author_id)


def timeline_author_removed(*, user_id: int, author_id: int) -> None:
    """Hook for an unfollow (a block ends follows) or a mute: drop the author's posts once
    the change commits."""
    _after_commit(timeline_remove_author, user_id=user_id, author_id=author_id)


def stream_graph_changed(*, user_ids: list[int]) -> None:
    """Hook for a block, an unblock or an unmute, which need no timeline change of their own
    (or not for every party): tell each reader's open streams once the change commits."""

    def run() -> None:
        for user_id in user_ids:
            publish_graph_change(user_id=user_id)

    transaction.on_commit(run, robust=True)


def _after_commit(func, *, user_id: int, **kwargs) -> None:
    def run() -> None:
        try:
            func(user_id=user_id, **kwargs)
        except store.REDIS_UNAVAILABLE:
            timeline_mark_stale(user_id=user_id)
        publish_graph_change(user_id=user_id)

    transaction.on_commit(run, robust=True)
