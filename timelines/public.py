"""What other apps use of timelines: graph/, posts/ and ranking/ import this module,
``timelines.models`` and ``timelines.keys`` only (tests/timelines/test_public.py checks it).

Hooks for graph changes (run after commit, each also telling the reader's open streams; a
Redis failure marks the timeline stale instead of failing the request), the delivery decision
and the one fan-out enqueue for posts (docs/architecture.md#fan-out), the live feed's
publishers for deletions and notifications (docs/architecture.md#publishing), and the feed
page and its rows for the views, ranking and the bench's views
(docs/architecture.md#read-path). Everything else in timelines/ is internal.
"""

from __future__ import annotations

from timelines.fanout.enqueue import fanout_enqueue
from timelines.fanout.plan import account_fanout_mode, account_is_celebrity
from timelines.feed.page import FeedPage, feed_page, feed_page_newer
from timelines.feed.rows import (
    FeedEntry,
    FeedPost,
    feed_entries_by_ids,
    feed_posts_by_ids,
    visible_posts_by_ids,
)
from timelines.feed.visibility import feed_post_ids_from_db
from timelines.follows import stream_graph_changed, timeline_author_added, timeline_author_removed
from timelines.store import get_store
from timelines.streams import publish_delete, publish_notification

__all__ = [
    "FeedEntry",
    "FeedPage",
    "FeedPost",
    "account_fanout_mode",
    "account_is_celebrity",
    "fanout_enqueue",
    "feed_entries_by_ids",
    "feed_page",
    "feed_page_newer",
    "feed_post_ids_from_db",
    "feed_posts_by_ids",
    "get_store",
    "publish_delete",
    "publish_notification",
    "stream_graph_changed",
    "timeline_author_added",
    "timeline_author_removed",
    "visible_posts_by_ids",
]
