"""A live-feed listener: a real pub/sub subscriber on the timeline store's Redis (a cluster's
first master: a PUBLISH on any node reaches it), which reads until every master has sent it a
marker published after the action, so no wait depends on time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from timelines.keys import stream_marker_key
from timelines.store import ClusterTimelineStore, TimelineStore


class Listener:
    def __init__(self, store: TimelineStore) -> None:
        if isinstance(store, ClusterTimelineStore):
            self.publishers = [
                redis.Redis(host=node.host, port=node.port) for node in store.client.get_primaries()
            ]
        else:
            self.publishers = [redis.Redis.from_url(settings.TIMELINE_REDIS_URL)]
        self.subscriber = self.publishers[0].pubsub()
        self.subscriber.psubscribe("stream:*")
        self.subscriber.get_message(timeout=5)  # the psubscribe confirmation

    def events(self) -> list[tuple[str, dict]]:
        """Every stream event published since the last call, as (channel, message)."""
        done = f"stream:test-done:{uuid.uuid4().hex}"
        for publisher in self.publishers:
            publisher.publish(done, "")
        seen, markers = [], 0
        while markers < len(self.publishers):
            message = self.subscriber.get_message(timeout=10)
            assert message is not None, "the end marker never came back"
            if message["type"] != "pmessage":
                continue
            channel = message["channel"].decode()
            if channel == done:
                markers += 1
            elif not channel.startswith("stream:test-done:"):
                seen.append((channel, json.loads(message["data"])))
        return seen

    def close(self) -> None:
        self.subscriber.close()
        for publisher in self.publishers:
            publisher.close()


@pytest.fixture
def listener(redis_store: TimelineStore) -> Iterator[Listener]:
    subscriber = Listener(redis_store)
    yield subscriber
    subscriber.close()


@pytest.fixture
def streaming(redis_store: TimelineStore):
    """Mark readers as having an open stream, as the stream process does."""

    def mark(*user_ids: int) -> None:
        for user_id in user_ids:
            redis_store.client.set(stream_marker_key(user_id), 1, px=60_000)

    return mark


@pytest.fixture(autouse=True)
def publish_pushed(settings) -> None:
    """These tests are about the publish: turn on what production leaves off by default."""
    settings.STREAM_PUBLISH_PUSHED = True
