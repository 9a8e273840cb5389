"""GET /api/v1/timelines/home: the same feed as /api/feed/, Mastodon's id window and Link
header, a constant number of queries per page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from feedsite.mastodon.render import embedded_accounts_clear
from graph.services import follow_create
from posts.services import like_create, share_create
from tests.factories import AccountFactory, PostFactory
from tests.helpers import feed_ids
from tests.mastodon.conftest import error_message, links

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(run_commit_hooks, client_for):
    """A reader following a push-mode friend and a pull-mode celebrity who shares a post."""
    call_command("feed_config", celebrity_threshold=2)
    me, friend, celebrity = AccountFactory.create_batch(3)
    edges = [(me, friend), (me, celebrity), (AccountFactory(), celebrity)]  # 2 followers: pull
    with run_commit_hooks():
        for follower, followee in edges:
            follow_create(follower=follower, followee=followee)
    client = client_for(me)
    feed_ids(client)
    with run_commit_hooks():
        for i in range(10):
            post = PostFactory(author=(friend, celebrity)[i % 2])
            if i == 4:
                like_create(user=me, post=post)
        share_create(user=celebrity, post=PostFactory(author=AccountFactory()))
    return client


def walk(client, url):
    ids, pages = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += [int(s["id"]) for s in response.json()]
        pages.append(response)
        url = links(response).get("next")
    return ids, pages


def test_home_is_the_feed_paged_by_max_id(reader):
    ids, pages = walk(reader, "/api/v1/timelines/home?limit=3")
    assert ids == feed_ids(reader) and len(ids) == 11
    first = links(pages[0])
    assert parse_qs(urlsplit(first["next"]).query) == {"limit": ["3"], "max_id": [str(ids[2])]}
    assert parse_qs(urlsplit(first["prev"]).query) == {"limit": ["3"], "min_id": [str(ids[0])]}
    assert walk(reader, "/api/v1/timelines/home/?limit=40")[0] == ids


def test_prev_link_and_since_id(reader, run_commit_hooks):
    full = feed_ids(reader)
    response = reader.get(f"/api/v1/timelines/home?limit=2&max_id={full[4]}")
    assert [int(s["id"]) for s in response.json()] == full[5:7]
    prev = reader.get(links(response)["prev"])  # Mastodon.py's fetch_previous: min_id
    assert [int(s["id"]) for s in prev.json()] == full[3:5]
    since = reader.get(f"/api/v1/timelines/home?since_id={full[4]}&limit=2")
    assert [int(s["id"]) for s in since.json()] == full[:2]
    assert reader.get(f"/api/v1/timelines/home?since_id={full[0]}").json() == []
    assert "Link" not in reader.get(f"/api/v1/timelines/home?min_id={full[0]}")


def test_statuses_render_reblogs_and_favourites(reader):
    statuses = reader.get("/api/v1/timelines/home?limit=40").json()
    wrapper = statuses[0]
    assert wrapper["reblog"] is not None and wrapper["reblog"]["account"]["id"] != wrapper["account"]["id"]
    assert sum(s["favourited"] for s in statuses) == 1
    assert all(isinstance(s["id"], str) and isinstance(s["account"]["id"], str) for s in statuses)


def test_home_query_count_does_not_grow_with_page_size(reader, django_assert_num_queries, steady_config):
    for limit in (5, 40):
        embedded_accounts_clear()
        # token auth, pull-mode followees, the page's posts (feed_page, as /api/feed/), the
        # accounts they show, the viewer's shares among them
        with django_assert_num_queries(5):
            response = reader.get(f"/api/v1/timelines/home?limit={limit}")
        assert len(response.json()) == min(limit, 11)
        # The accounts again within seconds: this process's copy.
        with django_assert_num_queries(4):
            reader.get(f"/api/v1/timelines/home?limit={limit}")


@pytest.mark.parametrize("query", ["limit=abc", "max_id=x", "since_id=-3", "min_id=1e3"])
def test_bad_window_is_422(reader, query):
    error_message(reader.get(f"/api/v1/timelines/home?{query}"), 422)


def test_limit_above_maximum_is_clamped(reader):
    assert len(reader.get("/api/v1/timelines/home?limit=500").json()) == 11


def test_anonymous_is_401(api):
    assert api.get("/api/v1/timelines/home").status_code == 401


def test_unknown_mastodon_paths_are_404(reader):
    assert reader.get("/api/v1/timelines/public").status_code == 404


def test_a_page_without_shared_posts_skips_the_reblogged_query(
    pair, client_for, django_assert_num_queries, steady_config
):
    reader, _, posts = pair
    client = client_for(reader)
    client.get("/api/v1/timelines/home")  # builds the timeline
    embedded_accounts_clear()
    # token auth, pull-mode followees, the page's posts, the accounts they show
    with django_assert_num_queries(4):
        response = client.get("/api/v1/timelines/home")
    assert [s["id"] for s in response.json()] == [str(p.id) for p in reversed(posts)]
