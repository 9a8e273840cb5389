"""First pages read only the head of each outbox they merge (timelines.feed.page.outbox_depth):
the pages are still exactly the feed, whatever the depth, and cost no more queries."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from graph.services import mute_create
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory
from tests.helpers import feed_ids
from timelines.feed.visibility import feed_post_ids_from_db
from timelines.store import get_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def pull_reader(run_commit_hooks, client_for):
    """A reader of one push-mode friend and five pull-mode accounts (one muted), whose posts
    interleave; a few pulled posts deleted."""
    rng = random.Random(14)
    reader, friend, *celebrities = AccountFactory.create_batch(7)
    for celebrity in celebrities:
        call_command("feed_config", account=celebrity.id, mode="pull")
    with run_commit_hooks():
        for followee in (friend, *celebrities):
            client_for(reader).post(f"/api/accounts/{followee.id}/follow/")
    client = client_for(reader)
    assert feed_ids(client) == []  # builds the timeline
    mute_create(muter=reader, muted=celebrities[0])
    for _ in range(80):
        author = rng.choice([friend, *celebrities])
        author.refresh_from_db()
        with run_commit_hooks():
            post = PostFactory(author=author)
        if rng.random() < 0.15:
            post_delete(post=post, actor=author)
    return reader, client


@pytest.mark.also_cluster
@pytest.mark.parametrize("depth", [1, 3, 8, None])
def test_pages_from_outbox_heads_are_the_feed(pull_reader, monkeypatch, depth):
    """Heads shallower than a page send it on to PostgreSQL below the highest head's last id;
    the posts and their order stay those of the feed's definition (feed_post_ids_from_db,
    itself checked against plain Python in test_visibility)."""
    reader, client = pull_reader
    if depth is not None:
        monkeypatch.setattr("timelines.feed.page.outbox_depth", lambda limit: depth)
    expected = feed_post_ids_from_db(viewer_id=reader.id, limit=1000)
    assert len(expected) > 40
    for limit in (1, 5, 20, 100):
        first = client.get(f"/api/feed/?limit={limit}").json()["results"]
        assert [p["id"] for p in first] == expected[:limit]
    assert feed_ids(client, limit=7) == expected  # cursor pages read whole outboxes


def test_a_first_page_reads_heads_in_one_round_trip(pull_reader, django_assert_num_queries, steady_config):
    """A first page costs the usual 3 queries and reads each outbox's head (LRANGE with LLEN
    and LINDEX) in the same Redis round trip as the timeline, never a whole outbox (single
    Redis: its command counters)."""
    _, client = pull_reader
    call_command("feed_config", outbox_cache_ms=0)  # every page reads Redis
    client.get("/api/feed/?limit=5")  # the config row, cached for the test
    redis = get_store().client
    redis.config_resetstat()
    with django_assert_num_queries(3):
        assert len(client.get("/api/feed/?limit=5").json()["results"]) == 5
    stats = redis.info("commandstats")
    assert stats["cmdstat_llen"]["calls"] == 5  # one per outbox
    assert stats["cmdstat_lrange"]["calls"] == 1 + 5  # the timeline, whole; five heads
