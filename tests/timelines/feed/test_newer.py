"""Newer-than pages of the feed (``since_id``, ``min_id``: timelines.feed.page.feed_page_newer)
against the plain definition over the whole feed: since_id = the newest posts above the id,
min_id = the ones immediately above it, both newest first; also past a trimmed window's
horizon, with filtered posts, and from PostgreSQL alone when Redis is down."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command

from graph.services import follow_create, mute_create
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory
from tests.helpers import feed_ids

pytestmark = pytest.mark.django_db


def dead_redis_url() -> str:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


@pytest.fixture
def world(run_commit_hooks, client_for, redis_store):
    """A reader following a push-mode friend and a pull-mode celebrity, with a trimmed
    timeline (cap 20), a deleted post and a muted followee's posts in between."""
    call_command("feed_config", celebrity_threshold=2, timeline_length=20)
    reader, friend, celebrity, muted = AccountFactory.create_batch(4)
    with run_commit_hooks():
        for followee in (friend, celebrity, muted):
            follow_create(follower=reader, followee=followee)
        follow_create(follower=AccountFactory(), followee=celebrity)
    client = client_for(reader)
    feed_ids(client)
    with run_commit_hooks():
        for i in range(45):
            author = (friend, celebrity, muted)[i % 3]
            PostFactory(author=author)
        post_delete(post=friend.posts.order_by("id")[3], actor=friend)
        mute_create(muter=reader, muted=muted)
    redis_store.client.flushdb()  # rebuilt lists are capped: the rest lies below the horizon
    return client


def page_ids(client, query: str) -> tuple[list[int], str | None]:
    response = client.get(f"/api/feed/?mode=chronological&{query}")
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["results"]], response.json()["next"]


@pytest.mark.parametrize("redis_down", [False, True])
def test_since_id_and_min_id_match_their_definition(world, settings, redis_down):
    full = feed_ids(world)  # newest first, every visible post
    assert len(full) == 29
    if redis_down:
        settings.TIMELINE_REDIS_URL = dead_redis_url()
    for after in [0, *full[::2]]:
        above = [post_id for post_id in full if post_id > after]
        for limit in (1, 3, 20):
            assert page_ids(world, f"since_id={after}&limit={limit}")[0] == above[:limit], (after, limit)
            assert page_ids(world, f"min_id={after}&limit={limit}")[0] == above[-limit:], (after, limit)


def test_next_fills_the_gap_in_both_directions(world):
    full = feed_ids(world)
    after = full[-3]
    above = [post_id for post_id in full if post_id > after]
    for name in ("since_id", "min_id"):
        seen, url = [], f"/api/feed/?{name}={after}&limit=4"
        while url:
            response = world.get(url)
            seen += [p["id"] for p in response.json()["results"]]
            url = response.json()["next"]
        assert sorted(seen, reverse=True) == above and len(seen) == len(set(seen)), name


@pytest.mark.parametrize(
    "query", ["since_id=abc", "min_id=-1", "since_id=1&min_id=2", "since_id=1&mode=ranked", "min_id=1.5"]
)
def test_bad_newer_params_are_400(client_for, query):
    response = client_for(AccountFactory()).get(f"/api/feed/?{query}")
    assert response.status_code == 400 and response.json()["detail"]
