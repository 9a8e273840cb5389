"""Pushed posts reach the live feed inside the fan-out push: only readers with a stream
marker get a PUBLISH, in the batch's own round trip (one per master on a cluster)."""

from __future__ import annotations

import json
import random

import pytest
from redis.connection import Connection

from tests.factories import AccountFactory, PostFactory, bulk_followers
from timelines.keys import (
    READER_CHANNEL_PREFIX,
    reader_channel,
    stream_marker_key,
    stream_marker_keys,
    timeline_key,
    timeline_keys,
)
from timelines.store import ClusterTimelineStore
from timelines.store.wire import evalsha_payload, resp
from timelines.streams import post_message

pytestmark = pytest.mark.also_cluster

# Readers far above the test databases' ids: pub/sub channels are shared by every database
# of a Redis server, and other suites may run on it at the same time.
BASE = 10**9 + random.randrange(10**6) * 1000
USERS = list(range(BASE, BASE + 300))


@pytest.fixture
def round_trips(monkeypatch):
    """How many buffers were sent to Redis (a pipeline or a packed batch is one)."""
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(self.port)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


def test_names_match_the_contract():
    assert stream_marker_key(42) == "st:{42}" and stream_marker_keys([1, 2]) == ["st:{1}", "st:{2}"]
    assert reader_channel(42) == "stream:{42}" == READER_CHANNEL_PREFIX + "{42}"
    assert json.loads(post_message(post_id=5, author_id=7)) == {"e": "post", "post": 5, "author": 7}


@pytest.mark.parametrize("replay", [False, True], ids=["lpushx", "replay"])
def test_push_publishes_to_marked_readers_only(redis_store, listener, streaming, replay):
    marked = USERS[::60]  # 5 readers, spread over the masters
    streaming(*marked)
    message = post_message(post_id=9, author_id=1)
    redis_store.push(
        keys=timeline_keys(USERS),
        post_id=9,
        cap=800,
        replay=replay,
        markers=stream_marker_keys(USERS),
        message=message,
    )
    events = listener.events()
    assert sorted(events) == sorted((reader_channel(u), json.loads(message)) for u in marked)


def test_push_publish_rides_in_the_batchs_round_trip(redis_store, listener, streaming, round_trips):
    streaming(*USERS[::30])
    args = {"keys": timeline_keys(USERS), "cap": 800, "markers": stream_marker_keys(USERS)}
    redis_store.push(post_id=1, message=post_message(post_id=1, author_id=1), **args)  # connects
    listener.events()
    round_trips.clear()
    redis_store.push(post_id=2, message=post_message(post_id=2, author_id=1), **args)
    masters = len(redis_store.client.get_primaries()) if isinstance(redis_store, ClusterTimelineStore) else 1
    assert len(round_trips) == masters  # one buffer per node: LPUSHX batch + publish script
    assert len(listener.events()) == 10


def test_nobody_streaming_publishes_nothing(redis_store, listener):
    redis_store.push(
        keys=timeline_keys(USERS),
        post_id=3,
        cap=800,
        markers=stream_marker_keys(USERS),
        message=post_message(post_id=3, author_id=1),
    )
    assert listener.events() == []


def test_a_lost_script_cache_still_publishes(redis_store, listener, streaming):
    """After a Redis restart the script is gone: the push loads it and publishes once."""
    streaming(USERS[0], USERS[-1])
    if isinstance(redis_store, ClusterTimelineStore):
        for node in redis_store.client.get_primaries():
            redis_store.client.get_redis_connection(node).script_flush()
    else:
        redis_store.client.script_flush()
    message = post_message(post_id=4, author_id=1)
    redis_store.push(
        keys=timeline_keys(USERS), post_id=4, cap=800, markers=stream_marker_keys(USERS), message=message
    )
    assert sorted(listener.events()) == sorted(
        (reader_channel(u), json.loads(message)) for u in (USERS[0], USERS[-1])
    )


@pytest.mark.django_db
def test_a_pushed_post_reaches_streaming_followers_and_its_author(
    listener, streaming, run_commit_hooks, warm_timelines
):
    author = AccountFactory()
    followers = bulk_followers(author, 4)
    warm_timelines([f.id for f in followers])
    streaming(author.id, followers[0].id, followers[2].id)
    with run_commit_hooks():
        post = PostFactory(author=author)
    expected = {"e": "post", "post": post.id, "author": author.id}
    assert sorted(listener.events()) == sorted(
        (reader_channel(u), expected) for u in (author.id, followers[0].id, followers[2].id)
    )
    assert timeline_key(followers[1].id)  # unmarked followers: timeline written, nothing published


@pytest.mark.django_db
def test_chunk_tasks_publish_with_the_author(listener, streaming, run_commit_hooks, warm_timelines):
    from django.core.management import call_command

    call_command("feed_config", chunk_size=2)
    author = AccountFactory()
    followers = bulk_followers(author, 7)
    warm_timelines([f.id for f in followers])
    streaming(*(f.id for f in followers))
    with run_commit_hooks():
        post = PostFactory(author=author)
    expected = {"e": "post", "post": post.id, "author": author.id}
    assert sorted(listener.events()) == sorted((reader_channel(f.id), expected) for f in followers)


def test_evalsha_payload_is_plain_resp():
    markers = stream_marker_keys([7, 12, 13, 8, 100])
    head = ('{"e":"post","post":5,"author":7}', READER_CHANNEL_PREFIX, "0")
    assert evalsha_payload("f" * 40, head, markers) == resp("EVALSHA", "f" * 40, 0, *head, *markers)
    assert evalsha_payload("f" * 40, head, []) == resp("EVALSHA", "f" * 40, 0, *head)
