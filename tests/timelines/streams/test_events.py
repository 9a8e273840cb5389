"""Events published outside the push: a pull-mode post (one PUBLISH on its author's channel,
whatever the audience), deletions (``stream:all``) and graph changes (the acting reader's
channel, and the blocked one's), each only once its transaction has committed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from graph import services as graph
from posts.models import Delivery
from posts.services import post_create, post_delete
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import monitored_commands
from tests.support.procs import free_port
from timelines.keys import STREAM_EVENTS_CHANNEL, author_channel, reader_channel, stream_marker_key
from timelines.public import publish_notification
from timelines.store import get_store

pytestmark = [pytest.mark.django_db, pytest.mark.also_cluster]


def graph_event(user) -> tuple[str, dict]:
    return (reader_channel(user.id), {"e": "graph", "user": user.id})


def test_a_pull_mode_post_is_one_publish(redis_store, timeline_backend, streaming, run_commit_hooks):
    """50 live followers, one PUBLISH, on the author's channel (MONITOR counts every command,
    the push script's included)."""
    if timeline_backend == "cluster":
        pytest.skip("MONITOR watches one Redis; the cluster run checks the channel below")
    celebrity = AccountFactory()
    followers = bulk_followers(celebrity, 50)
    streaming(*(f.id for f in followers))
    call_command("feed_config", account=celebrity.id, mode="pull")
    celebrity.refresh_from_db()
    with monitored_commands(redis_store) as seen, run_commit_hooks():
        post = post_create(author=celebrity, body="to everyone")
    assert post.delivery == Delivery.PULL
    commands = [c.replace('"', "").split() for c in seen]
    publishes = [c[:2] for c in commands if c[0].upper() == "PUBLISH"]
    assert publishes == [["PUBLISH", author_channel(celebrity.id)]]


def test_a_pull_mode_post_reaches_the_author_channel(streaming, run_commit_hooks, listener):
    celebrity = AccountFactory()
    streaming(*(f.id for f in bulk_followers(celebrity, 5)))
    call_command("feed_config", account=celebrity.id, mode="pull")
    celebrity.refresh_from_db()
    with run_commit_hooks():
        post = post_create(author=celebrity, body="to everyone")
        assert listener.events() == []  # not before commit
    assert listener.events() == [
        (author_channel(celebrity.id), {"e": "post", "post": post.id, "author": celebrity.id})
    ]


def test_a_deletion_is_published_once_committed(run_commit_hooks, listener):
    post = PostFactory()
    with run_commit_hooks():
        post_delete(post=post, actor=post.author)
        assert listener.events() == []
    deleted = {"e": "delete", "post": post.id, "author": post.author_id}
    assert listener.events() == [(STREAM_EVENTS_CHANNEL, deleted)]
    with run_commit_hooks():
        post_delete(post=post, actor=post.author)  # already deleted: nothing new to announce
    assert listener.events() == []


def test_a_rolled_back_deletion_publishes_nothing(run_commit_hooks, listener):
    post = PostFactory()
    with run_commit_hooks(), pytest.raises(RuntimeError), transaction.atomic():
        post_delete(post=post, actor=post.author)
        raise RuntimeError("rolled back")
    assert listener.events() == []


def test_follow_and_unfollow_tell_the_follower(run_commit_hooks, listener):
    reader, author = AccountFactory.create_batch(2)
    with run_commit_hooks():
        graph.follow_create(follower=reader, followee=author)
        assert listener.events() == []
    assert listener.events() == [graph_event(reader)]
    with run_commit_hooks():
        graph.follow_delete(follower=reader, followee=author)
    assert listener.events() == [graph_event(reader)]


def test_a_rolled_back_follow_publishes_nothing(run_commit_hooks, listener):
    reader, author = AccountFactory.create_batch(2)
    with run_commit_hooks(), pytest.raises(RuntimeError), transaction.atomic():
        graph.follow_create(follower=reader, followee=author)
        raise RuntimeError("rolled back")
    assert listener.events() == []


def test_block_and_unblock_tell_both(run_commit_hooks, listener):
    blocker, blocked = AccountFactory.create_batch(2)
    with run_commit_hooks():
        graph.block_create(blocker=blocker, blocked=blocked)
    events = listener.events()
    assert graph_event(blocker) in events and graph_event(blocked) in events
    with run_commit_hooks():
        graph.block_delete(blocker=blocker, blocked=blocked)
    assert sorted(listener.events()) == sorted([graph_event(blocker), graph_event(blocked)])


def test_mute_and_unmute_tell_the_muter(run_commit_hooks, listener):
    muter, muted = AccountFactory.create_batch(2)
    with run_commit_hooks():
        graph.mute_create(muter=muter, muted=muted)
    assert listener.events() == [graph_event(muter)]
    with run_commit_hooks():
        graph.mute_delete(muter=muter, muted=muted)  # not following: no backfill, still an event
    assert listener.events() == [graph_event(muter)]


def test_a_notification_goes_to_its_readers_channel_while_they_stream(listener, redis_store):
    reader = AccountFactory()
    assert publish_notification(user_id=reader.id, notification_id=76) is False  # no open stream
    redis_store.client.set(stream_marker_key(reader.id), 1, px=60_000)
    assert publish_notification(user_id=reader.id, notification_id=77) is True
    assert listener.events() == [(reader_channel(reader.id), {"e": "notification", "id": 77})]


def test_redis_down_loses_the_event_not_the_write(redis_store, timeline_backend, settings, run_commit_hooks):
    """A publish that cannot reach Redis is logged; the delete it announces stands."""
    if timeline_backend == "cluster":
        pytest.skip("one unreachable Redis is enough")
    post = PostFactory()
    settings.TIMELINE_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    get_store.cache_clear()
    try:
        with run_commit_hooks():
            post_delete(post=post, actor=post.author)
    finally:
        get_store.cache_clear()
    post.refresh_from_db()
    assert post.deleted_at is not None
