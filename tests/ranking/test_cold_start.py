"""The cold-start blend: trending posts in the ranked feed of a viewer following fewer than
``cold_start_follows`` accounts, marked in explain=1, with the ranked scroll's rules (one
snapshot, no repeats); the chronological feed and Mastodon's home timeline stay the followed
accounts' alone."""

from __future__ import annotations

import pytest

from graph.services import follow_create, mute_create
from ranking.models import RankingConfig, TrendHide
from ranking.trends import trends_refresh
from tests.factories import AccountFactory, PostFactory
from tests.ranking.test_ranked_feed import RANKED, walk
from tests.ranking.test_trends import engage

pytestmark = pytest.mark.django_db


@pytest.fixture
def trending(db, redis_store):
    """Six trending posts by six authors nobody in the test follows."""
    posts = [PostFactory(author=author) for author in AccountFactory.create_batch(6)]
    for i, post in enumerate(posts):
        engage(post, likes=i + 1)
    trends_refresh()
    return posts[::-1]  # best first


def test_a_brand_new_account_gets_trending_posts_marked_in_explain(trending, client_for):
    client = client_for(AccountFactory())
    results = client.get(f"{RANKED}&explain=1").json()["results"]
    assert {p["id"] for p in results} == {p.id for p in trending}
    assert {p["explain"]["source"] for p in results} == {"trending"}
    assert all(p["explain"]["score"]["total"] > 0 for p in results)
    assert client.get("/api/feed/?mode=chronological").json()["results"] == []


def test_mastodon_home_timeline_stays_the_followed_accounts(trending, client_for):
    assert client_for(AccountFactory()).get("/api/v1/timelines/home").json() == []


def test_blend_scrolls_without_repeats_and_keeps_the_feed(trending, run_commit_hooks, client_for):
    reader, author = AccountFactory.create_batch(2)
    with run_commit_hooks():
        follow_create(follower=reader, followee=author)
        own = [PostFactory(author=author) for _ in range(7)]
    client = client_for(reader)
    ids = walk(client, f"{RANKED}&limit=3")
    assert len(ids) == len(set(ids)) == 13
    assert set(ids) == {p.id for p in own} | {p.id for p in trending}
    sources = {
        p["id"]: p["explain"]["source"] for p in client.get(f"{RANKED}&limit=20&explain=1").json()["results"]
    }
    assert {sources[p.id] for p in own} == {"pushed"} and {sources[p.id] for p in trending} == {"trending"}
    # A followee's trending post comes from the feed, once, not from the blend.
    engage(own[0], likes=20)
    trends_refresh()
    ids = walk(client, f"{RANKED}&limit=4")
    assert len(ids) == len(set(ids)) == 13 and ids[0] == own[0].id


def test_later_pages_filter_hidden_and_muted_trending_posts(trending, client_for):
    viewer = AccountFactory()
    client = client_for(viewer)
    first = client.get(f"{RANKED}&limit=2").json()
    assert [p["id"] for p in first["results"]] == [trending[0].id, trending[1].id]
    TrendHide.objects.create(post=trending[2])
    mute_create(muter=viewer, muted=trending[3].author)
    rest = walk(client, first["next"])
    assert rest == [trending[4].id, trending[5].id]


def test_past_cold_start_no_blend(trending, client_for):
    config = RankingConfig.load()
    config.cold_start_follows = 0
    config.save()
    assert client_for(AccountFactory()).get(RANKED).json()["results"] == []


def test_blend_query_count(trending, client_for, django_assert_num_queries, steady_config):
    client = client_for(AccountFactory())
    client.get("/api/feed/")  # timeline built
    RankingConfig.cached()
    # token + pull-mode followees (no candidates: the timeline is empty) + the viewer's
    # follows + trending posts + their hides + engagement + affinity + the page's trending
    # posts + their hides
    with django_assert_num_queries(9):
        first = client.get(f"{RANKED}&limit=3")
    # token + trending posts + hides (from the snapshot)
    with django_assert_num_queries(3):
        client.get(first.json()["next"])
