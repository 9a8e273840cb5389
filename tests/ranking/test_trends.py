"""Trending posts on the real PostgreSQL and Redis: the score (weights, decay, window, cap per
author), the Redis copy and its rebuild, GET /api/trends/posts/ and GET /api/v1/trends/statuses
(paging, blocks and mutes, moderation hides effective on the next read)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from graph.services import block_create, mute_create
from posts.models import Like
from posts.services import comment_create, like_create, post_delete, share_create
from ranking.models import TrendHide, TrendsConfig
from ranking.trends import cap_per_author, trending_post_ids, trends_compute, trends_refresh
from tests.factories import AccountFactory, PostFactory
from tests.helpers import assert_error
from timelines.keys import trends_key

pytestmark = pytest.mark.django_db

URL = "/api/trends/posts/"


def engage(post, *, likes: int = 0, comments: int = 0, shares: int = 0) -> None:
    for fan in AccountFactory.create_batch(max(likes, comments, shares)):
        if likes > 0:
            like_create(user=fan, post=post)
        if comments > 0:
            comment_create(author=fan, post=post, body="nice")
        if shares > 0:
            share_create(user=fan, post=post)
        likes, comments, shares = likes - 1, comments - 1, shares - 1


@pytest.fixture
def three(db, redis_store):
    """Three posts by three authors: 1 like; 1 comment (weight 3); 4 likes."""
    posts = [PostFactory(author=author) for author in AccountFactory.create_batch(3)]
    engage(posts[0], likes=1)
    engage(posts[1], comments=1)
    engage(posts[2], likes=4)
    return posts


def test_trends_rank_weighted_engagement_and_leave_shares_out(three):
    ids = [t.post_id for t in trends_compute(config=TrendsConfig.load())]
    assert ids == [three[2].id, three[1].id, three[0].id]
    engage(three[0], shares=1)  # 1 like + a share (weight 5): first; the share itself never trends
    ids = [t.post_id for t in trends_compute(config=TrendsConfig.load())]
    assert ids == [three[0].id, three[2].id, three[1].id]


def test_older_engagement_decays_and_leaves_the_window(three):
    config = TrendsConfig.load()
    # The 4 likes happened two half-lives ago: worth 1, level with post 0's fresh like (newer id first).
    Like.objects.filter(post=three[2]).update(created_at=timezone.now() - timedelta(hours=6))
    scores = {t.post_id: t.score for t in trends_compute(config=config)}
    assert scores[three[2].id] == pytest.approx(1.0, rel=1e-3)
    assert scores[three[1].id] == pytest.approx(3.0, rel=1e-3)
    Like.objects.filter(post=three[2]).update(created_at=timezone.now() - timedelta(hours=25))
    assert three[2].id not in {t.post_id for t in trends_compute(config=config)}


def test_at_most_n_posts_per_author(db, redis_store):
    author, other = AccountFactory.create_batch(2)
    posts = [PostFactory(author=author) for _ in range(4)]
    lone = PostFactory(author=other)
    for i, post in enumerate(posts):
        engage(post, likes=10 - i)
    engage(lone, likes=1)
    config = TrendsConfig.load()
    assert [t.post_id for t in trends_compute(config=config)] == [posts[0].id, posts[1].id, lone.id]
    config.trend_max_per_author = 3
    config.save()
    assert len(trends_compute(config=TrendsConfig.load())) == 4


def test_cap_per_author_keeps_order_and_limit():
    from ranking.trends import Trend

    trends = [Trend(i, author, 10.0 - i) for i, author in enumerate([1, 1, 2, 1, 3, 2, 2])]
    assert [t.post_id for t in cap_per_author(trends, per_author=2, limit=10)] == [0, 1, 2, 4, 5]
    assert [t.post_id for t in cap_per_author(trends, per_author=1, limit=2)] == [0, 2]


def test_refresh_stores_the_list_and_a_missing_key_is_rebuilt_from_postgresql(three, redis_store):
    expected = [three[2].id, three[1].id, three[0].id]
    assert trends_refresh() == expected
    assert redis_store.client.get(trends_key()).decode() == ",".join(map(str, expected))
    engage(three[0], likes=5)  # not seen until the next refresh: the stored list is served
    assert trending_post_ids() == expected
    redis_store.client.delete(trends_key())
    assert trending_post_ids() == [three[0].id, three[2].id, three[1].id]
    assert redis_store.client.exists(trends_key())  # stored again


def test_api_pages_through_trends_as_feed_posts(three, api):
    trends_refresh()
    first = api.get(f"{URL}?limit=2")
    assert first.status_code == 200  # public
    body = first.json()
    assert [p["id"] for p in body["results"]] == [three[2].id, three[1].id]
    assert set(body["results"][0]) >= {"id", "author", "body", "like_count", "liked_by_me", "repost_of"}
    second = api.get(body["next"]).json()
    assert [p["id"] for p in second["results"]] == [three[0].id] and second["next"] is None
    assert_error(api.get(f"{URL}?cursor=nonsense"), 400, "cursor")
    assert_error(api.get(f"{URL}?limit=0"), 400, "limit")


def test_blocks_and_mutes_filter_per_viewer(three, client_for):
    trends_refresh()
    viewer, other = AccountFactory.create_batch(2)
    block_create(blocker=three[2].author, blocked=viewer)  # blocked by an author
    mute_create(muter=viewer, muted=three[1].author)
    ids = [p["id"] for p in client_for(viewer).get(URL).json()["results"]]
    assert ids == [three[0].id]
    assert len(client_for(other).get(URL).json()["results"]) == 3
    block_create(blocker=viewer, blocked=three[0].author)
    assert client_for(viewer).get(URL).json()["results"] == []


def test_moderation_hides_a_post_or_an_account_on_the_next_read(three, api, client_for):
    trends_refresh()
    staff = AccountFactory(is_staff=True)
    TrendHide.objects.create(post=three[2], created_by=staff)
    assert [p["id"] for p in api.get(URL).json()["results"]] == [three[1].id, three[0].id]
    TrendHide.objects.create(account=three[1].author)
    assert [p["id"] for p in api.get(URL).json()["results"]] == [three[0].id]
    assert [s["id"] for s in api.get("/api/v1/trends/statuses").json()] == [str(three[0].id)]
    post_delete(post=three[0], actor=three[0].author)
    assert api.get(URL).json()["results"] == []
    assert three[2].id not in trends_refresh()  # the recompute leaves hidden ones out as well


def test_mastodon_trends_statuses_limit_offset_and_link(three, api, client_for):
    trends_refresh()
    response = api.get("/api/v1/trends/statuses?limit=1&offset=1")
    assert response.status_code == 200
    statuses = response.json()
    assert [s["id"] for s in statuses] == [str(three[1].id)]
    assert statuses[0]["account"]["id"] == str(three[1].author_id)
    assert 'offset=2>; rel="next"' in response["Link"]
    last = api.get("/api/v1/trends/statuses?offset=2")
    assert [s["id"] for s in last.json()] == [str(three[0].id)] and "Link" not in last
    assert api.get("/api/v1/trends/statuses?offset=99").json() == []
    for bad in ("limit=0", "limit=x", "offset=-1"):
        response = api.get(f"/api/v1/trends/statuses?{bad}")
        assert response.status_code == 422 and response.json()["error"], bad
    viewer = AccountFactory()
    mute_create(muter=viewer, muted=three[2].author)
    ids = [s["id"] for s in client_for(viewer).get("/api/v1/trends/statuses").json()]
    assert ids == [str(three[1].id), str(three[0].id)]


def test_staff_hide_a_post_in_the_admin(three, api, client):
    trends_refresh()
    staff = AccountFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post("/admin/ranking/trendhide/add/", {"post": three[2].id, "reason": "spam"})
    assert response.status_code == 302, response.content[:500]
    assert TrendHide.objects.get(post=three[2]).created_by == staff
    assert three[2].id not in [p["id"] for p in api.get(URL).json()["results"]]
    response = client.post("/admin/ranking/trendhide/add/", {"reason": "neither"})
    assert response.status_code == 200 and not TrendHide.objects.filter(reason="neither").exists()
    assert client.get("/admin/ranking/trendsconfig/1/change/").status_code == 200
