"""The read path: GET /api/feed/ merges timeline + outboxes, filters, and pages stably."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from posts.models import Delivery
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory
from tests.helpers import feed_ids, timeline_raw
from timelines.store import COMPLETE, get_store

pytestmark = [pytest.mark.django_db, pytest.mark.also_cluster]


@pytest.fixture
def network(run_commit_hooks, client_for):
    """A reader following two push-mode friends and one pull-mode celebrity."""
    call_command("feed_config", celebrity_threshold=3)
    reader, friend_a, friend_b, celebrity, stranger = AccountFactory.create_batch(5)
    fans = AccountFactory.create_batch(2)
    with run_commit_hooks():
        for followee in (friend_a, friend_b, celebrity):
            client_for(reader).post(f"/api/accounts/{followee.id}/follow/")
        for fan in fans:
            client_for(fan).post(f"/api/accounts/{celebrity.id}/follow/")
    celebrity.refresh_from_db()
    assert celebrity.followers_count == 3
    return {"reader": reader, "a": friend_a, "b": friend_b, "celebrity": celebrity, "stranger": stranger}


def post_as(author, run_commit_hooks, n=1):
    with run_commit_hooks():
        return [PostFactory(author=author) for _ in range(n)]


def test_feed_merges_pushed_pulled_and_own_posts_newest_first(network, run_commit_hooks, client_for):
    reader = network["reader"]
    client = client_for(reader)
    assert feed_ids(client) == []  # builds the (empty) timeline
    posts = []
    for author in ("a", "celebrity", "b", "stranger", "celebrity", "reader"):
        account = reader if author == "reader" else network[author]
        posts += post_as(account, run_commit_hooks)
    assert posts[1].delivery == Delivery.PULL
    expected = [p.id for p in reversed(posts) if p.author_id != network["stranger"].id]
    assert feed_ids(client) == expected
    # The pulled posts never touched the reader's timeline.
    assert posts[1].id not in timeline_raw(get_store(), reader.id)


def test_walking_pages_while_posts_arrive_never_repeats_or_skips(network, run_commit_hooks, client_for):
    reader = network["reader"]
    client = client_for(reader)
    feed_ids(client)
    initial = []
    for i in range(12):
        initial += post_as(network["a" if i % 3 else "celebrity"], run_commit_hooks)
    seen, url, arrived = [], "/api/feed/?limit=5", []
    while url:
        page = client.get(url).json()
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
        # New posts land between page requests, in both the timeline and the outbox.
        arrived += post_as(network["b"], run_commit_hooks) + post_as(network["celebrity"], run_commit_hooks)
    assert seen == [p.id for p in reversed(initial)]
    assert len(seen) == len(set(seen))
    # A request without cursor shows the newest, including everything that arrived.
    first = client.get(f"/api/feed/?limit={len(arrived)}").json()["results"]
    assert [p["id"] for p in first] == [p.id for p in reversed(arrived)]


def test_flushed_redis_loses_nothing(network, run_commit_hooks, client_for, redis_store):
    client = client_for(network["reader"])
    feed_ids(client)
    for author in ("a", "b", "celebrity", "reader") * 3:
        post_as(network[author] if author != "reader" else network["reader"], run_commit_hooks)
    before = feed_ids(client, limit=4)
    assert len(before) == 12
    # Equivalent to FLUSHALL for the app: every key it has lives in this Redis database.
    redis_store.client.flushdb()
    assert feed_ids(client, limit=4) == before
    assert timeline_raw(redis_store, network["reader"].id)[-1] == COMPLETE


def test_follow_backfills_recent_posts_and_unfollow_removes_them(network, run_commit_hooks, client_for):
    reader, stranger = network["reader"], network["stranger"]
    client = client_for(reader)
    feed_ids(client)
    old = post_as(stranger, run_commit_hooks, n=3)
    assert feed_ids(client) == []
    with run_commit_hooks():
        assert client.post(f"/api/accounts/{stranger.id}/follow/").status_code == 201
    assert feed_ids(client) == [p.id for p in reversed(old)]
    with run_commit_hooks():
        assert client.delete(f"/api/accounts/{stranger.id}/follow/").status_code == 204
    assert feed_ids(client) == []
    assert not set(timeline_raw(get_store(), reader.id)) & {p.id for p in old}


def test_follow_backfill_is_capped_and_older_posts_still_reachable(network, run_commit_hooks, client_for):
    call_command("feed_config", follow_backfill=5)
    reader, stranger = network["reader"], network["stranger"]
    client = client_for(reader)
    friend_posts = post_as(network["a"], run_commit_hooks, n=3)
    feed_ids(client)
    stranger_posts = post_as(stranger, run_commit_hooks, n=8)
    with run_commit_hooks():
        client.post(f"/api/accounts/{stranger.id}/follow/")
    # Five posts were merged into the timeline; the other three come from PostgreSQL.
    expected = [p.id for p in reversed(friend_posts + stranger_posts)]
    assert feed_ids(client, limit=3) == expected


def test_block_and_mute_hide_posts_at_once(network, run_commit_hooks, client_for):
    reader, a, b = network["reader"], network["a"], network["b"]
    client = client_for(reader)
    feed_ids(client)
    pa = post_as(a, run_commit_hooks)[0]
    pb = post_as(b, run_commit_hooks)[0]
    pc = post_as(network["celebrity"], run_commit_hooks)[0]
    assert feed_ids(client) == [pc.id, pb.id, pa.id]

    with run_commit_hooks():
        client.post(f"/api/accounts/{a.id}/mute/")
    assert feed_ids(client) == [pc.id, pb.id]
    with run_commit_hooks():
        client.delete(f"/api/accounts/{a.id}/mute/")
    assert feed_ids(client) == [pc.id, pb.id, pa.id]

    # The celebrity blocks the reader: the pulled post disappears too.
    with run_commit_hooks():
        client_for(network["celebrity"]).post(f"/api/accounts/{reader.id}/block/")
    assert feed_ids(client) == [pb.id, pa.id]
    with run_commit_hooks():
        client.post(f"/api/accounts/{b.id}/block/")
    assert feed_ids(client) == [pa.id]


def test_deleted_posts_disappear_from_feeds(network, run_commit_hooks, client_for):
    client = client_for(network["reader"])
    feed_ids(client)
    pushed = post_as(network["a"], run_commit_hooks)[0]
    pulled = post_as(network["celebrity"], run_commit_hooks)[0]
    assert feed_ids(client) == [pulled.id, pushed.id]
    post_delete(post=pushed, actor=network["a"])
    post_delete(post=pulled, actor=network["celebrity"])
    assert feed_ids(client) == []


def test_deep_scroll_past_the_cached_window(network, run_commit_hooks, client_for, redis_store):
    call_command("feed_config", timeline_length=20)
    client = client_for(network["reader"])
    feed_ids(client)
    posts = []
    for i in range(30):
        posts += post_as(network["a" if i % 2 else "celebrity"], run_commit_hooks)
    assert len(timeline_raw(redis_store, network["reader"].id)) == 15 + 1  # + COMPLETE
    redis_store.client.flushdb()  # rebuilt lists are capped at 20: the rest is deep scroll
    assert feed_ids(client, limit=7) == [p.id for p in reversed(posts)]


def test_author_switching_modes_keeps_every_post_exactly_once(network, run_commit_hooks, client_for):
    reader, a = network["reader"], network["a"]
    client = client_for(reader)
    feed_ids(client)
    push_1 = post_as(a, run_commit_hooks)
    call_command("feed_config", account=a.id, mode="pull")
    a.refresh_from_db()
    pull_1 = post_as(a, run_commit_hooks)
    call_command("feed_config", account=a.id, mode="push")
    a.refresh_from_db()
    push_2 = post_as(a, run_commit_hooks)
    assert [p.delivery for p in push_1 + pull_1 + push_2] == ["push", "pull", "push"]
    assert feed_ids(client) == [p.id for p in reversed(push_1 + pull_1 + push_2)]


def test_feed_page_query_count_does_not_grow_with_page_size(
    network, run_commit_hooks, client_for, django_assert_num_queries, steady_config
):
    client = client_for(network["reader"])
    for author in ("a", "b", "celebrity") * 10:
        post_as(network[author], run_commit_hooks)
    feed_ids(client)  # the first read builds the timeline
    for limit in (5, 30):
        # token auth + pull-mode followees + one query loading the page's posts with their
        # authors, originals and liked_by_me
        with django_assert_num_queries(3):
            response = client.get(f"/api/feed/?mode=chronological&limit={limit}")
        assert len(response.json()["results"]) == limit
        # Without ?mode=, the config row says which mode: a per-process copy, no query.
        with django_assert_num_queries(3):
            client.get(f"/api/feed/?limit={limit}")


def test_feed_requires_authentication(api):
    assert api.get("/api/feed/").status_code == 401


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5"])
def test_bad_limit_is_400(client_for, limit):
    response = client_for(AccountFactory()).get(f"/api/feed/?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_tampered_or_foreign_cursor_is_400(network, run_commit_hooks, client_for):
    client = client_for(network["reader"])
    post_as(network["a"], run_commit_hooks, n=3)
    cursor = cursor_of(client.get("/api/feed/?limit=1").json()["next"])
    assert client.get("/api/feed/", {"cursor": cursor}).status_code == 200
    for bad in (cursor[:-2] + "xx", "x" + cursor[1:], "garbage", "a" * 600):
        response = client.get("/api/feed/", {"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["detail"] == "cursor: Invalid or tampered cursor."
    # A valid cursor from another endpoint is refused too: cursors are signed per endpoint.
    other = cursor_of(client.get(f"/api/accounts/{network['a'].id}/posts/?limit=1").json()["next"])
    assert client.get("/api/feed/", {"cursor": other}).status_code == 400
