"""Publishing to the live feed: the one module that sends stream events
(docs/architecture.md#publishing).

Every event carries ids only and is sent after the change it announces is committed (or, for
pushed posts, in the fan-out push's own round trip, to marked readers only); the stream
process loads and filters what it sends from PostgreSQL. Delivery on a channel is at least
once (a replayed push publishes again), so the stream process drops a post a stream already
sent. A failed publish never fails the write that caused it: a stream that misses an event
while Redis is down is closed and resumes from the timeline on reconnect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from timelines import store
from timelines.keys import (
    STREAM_EVENTS_CHANNEL,
    author_channel,
    reader_channel,
    stream_marker_key,
    stream_marker_keys,
)

logger = logging.getLogger(__name__)


def post_message(*, post_id: int, author_id: int) -> str:
    """The ``post`` event (for reader and author channels alike)."""
    return json.dumps({"e": "post", "post": post_id, "author": author_id}, separators=(",", ":"))


def publish_post_to_readers(*, post_id: int, author_id: int, user_ids: Iterable[int]) -> int:
    """A pushed post to those of ``user_ids`` who have an open stream, in one round trip per
    node. The fan-out batch sends the same script inside its own push (``store.push``'s
    ``markers``/``message``); this is that publish alone, for the author's own stream."""
    return store.get_store().publish_marked(
        markers=stream_marker_keys(user_ids), message=post_message(post_id=post_id, author_id=author_id)
    )


def publish_author_post(*, post_id: int, author_id: int) -> None:
    """A pull-mode post: one PUBLISH on its author's channel, whatever the audience."""
    _publish(author_channel(author_id), post_message(post_id=post_id, author_id=author_id))


def publish_delete(*, post_id: int, author_id: int) -> None:
    """A deleted post, to every stream process (they filter by their readers' follows)."""
    message = json.dumps({"e": "delete", "post": post_id, "author": author_id}, separators=(",", ":"))
    _publish(STREAM_EVENTS_CHANNEL, message)


def publish_graph_change(*, user_id: int) -> None:
    """The reader's follows, blocks or mutes changed: their streams reload them."""
    _publish(reader_channel(user_id), json.dumps({"e": "graph", "user": user_id}, separators=(",", ":")))


def publish_notification(*, user_id: int, notification_id: int) -> bool:
    """A new notification, on the reader's channel only if they have an open stream (its
    marker is set): readers without one cost one EXISTS. Returns whether it was published."""
    client = store.get_store().client
    message = json.dumps({"e": "notification", "id": notification_id}, separators=(",", ":"))
    try:
        if not client.exists(stream_marker_key(user_id)):
            return False
        client.publish(reader_channel(user_id), message)
    except (*store.REDIS_UNAVAILABLE, *store.CLUSTER_TRANSIENT_ERRORS):
        logger.warning("stream event lost: Redis unavailable", extra={"channel": reader_channel(user_id)})
        return False
    return True


def _publish(channel: str, message: str) -> None:
    try:
        store.get_store().client.publish(channel, message)
    except (*store.REDIS_UNAVAILABLE, *store.CLUSTER_TRANSIENT_ERRORS):
        logger.warning("stream event lost: Redis unavailable", extra={"channel": channel})
