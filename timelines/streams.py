"""Publishing to open streams (the streaming contract, docs/architecture.md#notifications):
messages carry ids only, and go out only when the reader has an open stream (its marker is
set), so readers without one cost one EXISTS. Best effort: PostgreSQL holds what a stream
shows, so a Redis error is logged, never raised.

Minimal on the notifications branch (publish_notification only); the live feed adds the
other publishers here."""

from __future__ import annotations

import json
import logging

from timelines.keys import reader_channel, stream_marker_key
from timelines.store import REDIS_UNAVAILABLE, get_store

logger = logging.getLogger(__name__)


def publish_notification(*, user_id: int, notification_id: int) -> bool:
    """``{"e": "notification", "id": …}`` on the reader's channel if they have an open stream."""
    client = get_store().client
    try:
        if not client.exists(stream_marker_key(user_id)):
            return False
        client.publish(reader_channel(user_id), json.dumps({"e": "notification", "id": notification_id}))
    except REDIS_UNAVAILABLE:
        logger.warning("stream publish failed for notification %s", notification_id, exc_info=True)
        return False
    return True
