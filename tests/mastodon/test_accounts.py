"""Accounts: verify_credentials, profiles, lookup, v2 search, an account's statuses (window
paging), follow/block/mute → Relationship, relationships, followers/following."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from feedsite.mastodon.render import embedded_accounts_clear
from graph.models import Block, Follow, Mute
from posts.services import share_create
from tests.factories import AccountFactory, PostFactory
from tests.mastodon.conftest import error_message, links

pytestmark = pytest.mark.django_db


def test_verify_credentials_has_source(client_for):
    me = AccountFactory()
    for path in ("/api/v1/accounts/verify_credentials", "/api/v1/accounts/verify_credentials/"):
        body = client_for(me).get(path).json()
        assert body["id"] == str(me.id) and body["username"] == me.username
        assert body["source"]["privacy"] == "public" and body["source"]["note"] == ""


def test_requires_authentication(api):
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 401


def test_account_and_unknown_ids(client_for):
    me, other = AccountFactory.create_batch(2)
    client = client_for(me)
    assert client.get(f"/api/v1/accounts/{other.id}").json()["acct"] == other.username
    for bad in ("999999999", "abc", "-1", "99999999999999999999"):
        error_message(client.get(f"/api/v1/accounts/{bad}"), 404)


def test_lookup_and_search_by_name(client_for):
    me = AccountFactory(username="reader")
    alice, _ = AccountFactory(username="alice"), AccountFactory(username="alicia")
    AccountFactory(username="bob")
    client = client_for(me)
    assert client.get("/api/v1/accounts/lookup?acct=@Alice").json()["id"] == str(alice.id)
    assert client.get("/api/v1/accounts/lookup?acct=alice@testserver").json()["id"] == str(alice.id)
    error_message(client.get("/api/v1/accounts/lookup?acct=alice@elsewhere.example"), 404)
    error_message(client.get("/api/v1/accounts/lookup?acct=nobody"), 404)
    error_message(client.get("/api/v1/accounts/lookup"), 422)

    body = client.get("/api/v2/search?q=@ali&type=accounts&resolve=true").json()
    assert [a["acct"] for a in body["accounts"]] == ["alice", "alicia"]
    assert body["statuses"] == [] and body["hashtags"] == []
    assert [a["acct"] for a in client.get("/api/v2/search/?q=alicia").json()["accounts"]] == ["alicia"]
    assert client.get("/api/v2/search?q=ali&type=statuses").json()["accounts"] == []
    error_message(client.get("/api/v2/search?q=ali&type=people"), 422)
    error_message(client.get("/api/v2/search", {"q": "a\x00"}), 422)
    error_message(client.get("/api/v1/accounts/lookup", {"acct": "a\x00"}), 422)


def test_v1_account_search(client_for, run_commit_hooks):
    """Mastodon.py's ``account_search``: the v1 path, a plain list, ``following`` narrowing."""
    me = AccountFactory(username="reader")
    AccountFactory(username="alice")
    alicia = AccountFactory(username="alicia")
    with run_commit_hooks():
        Follow.objects.create(follower=me, followee=alicia)
    client = client_for(me)

    def found(path: str) -> list[str]:
        return [a["acct"] for a in client.get(path).json()]

    assert found("/api/v1/accounts/search?q=ALI") == ["alice", "alicia"]
    assert found("/api/v1/accounts/search/?q=@alicia") == ["alicia"]
    assert found("/api/v1/accounts/search?q=ali&following=true") == ["alicia"]
    assert found("/api/v1/accounts/search?q=ali&limit=1&offset=1") == ["alicia"]
    assert client.get("/api/v1/accounts/search?q=").json() == []
    error_message(client.get("/api/v1/accounts/search?q=ali&following=maybe"), 422)
    error_message(client.get("/api/v1/accounts/search?q=ali&limit=x"), 422)


def test_relations_return_relationships(client_for, run_commit_hooks):
    me, other = AccountFactory.create_batch(2)
    client = client_for(me)
    with run_commit_hooks():
        rel = client.post(f"/api/v1/accounts/{other.id}/follow").json()
    assert rel["id"] == str(other.id) and rel["following"] is True and rel["followed_by"] is False
    assert Follow.objects.filter(follower=me, followee=other).exists()
    other.refresh_from_db()
    assert other.followers_count == 1  # through graph.services: counts kept
    assert client.post(f"/api/v1/accounts/{other.id}/mute/").json()["muting"] is True
    assert Mute.objects.filter(muter=me, muted=other).exists()
    assert client.post(f"/api/v1/accounts/{other.id}/unmute").json()["muting"] is False
    assert client.post(f"/api/v1/accounts/{other.id}/unfollow").json()["following"] is False
    rel = client.post(f"/api/v1/accounts/{other.id}/block").json()
    assert rel["blocking"] is True and Block.objects.filter(blocker=me, blocked=other).exists()
    error_message(client.post(f"/api/v1/accounts/{other.id}/follow"), 422)  # unblock first
    assert client_for(other).get(f"/api/v1/accounts/relationships?id[]={me.id}").json()[0]["blocked_by"]
    assert client.post(f"/api/v1/accounts/{other.id}/unblock").json()["blocking"] is False
    error_message(client.post(f"/api/v1/accounts/{me.id}/follow"), 422)  # yourself


def test_relationships_in_order_unknown_left_out(client_for):
    me, a, b = AccountFactory.create_batch(3)
    Follow.objects.create(follower=b, followee=me)
    body = client_for(me).get(f"/api/v1/accounts/relationships?id[]={b.id}&id[]=99999999&id[]={a.id}&id[]=x")
    assert [(r["id"], r["followed_by"]) for r in body.json()] == [(str(b.id), True), (str(a.id), False)]


def test_followers_and_following_paged_with_link(client_for):
    star = AccountFactory()
    fans = AccountFactory.create_batch(5)
    for fan in fans:
        Follow.objects.create(follower=fan, followee=star)
    client = client_for(star)
    seen, url = [], f"/api/v1/accounts/{star.id}/followers?limit=2"
    while url:
        response = client.get(url)
        seen += [a["id"] for a in response.json()]
        url = links(response).get("next")
    assert seen == [str(f.id) for f in reversed(fans)]
    following = client_for(fans[0]).get(f"/api/v1/accounts/{fans[0].id}/following/").json()
    assert [a["id"] for a in following] == [str(star.id)]


def test_account_statuses_window_paging_and_filters(client_for):
    me, author, other = AccountFactory.create_batch(3)
    posts = [PostFactory(author=author) for _ in range(5)]
    share, _ = share_create(user=author, post=PostFactory(author=other))
    client = client_for(me)
    base = f"/api/v1/accounts/{author.id}/statuses"

    def ids(query):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 200, response.content
        return [int(s["id"]) for s in response.json()], response

    newest, response = ids("limit=2")
    assert newest == [share.id, posts[4].id]
    next_query = parse_qs(urlsplit(links(response)["next"]).query)
    assert next_query["max_id"] == [str(posts[4].id)] and next_query["limit"] == ["2"]
    assert parse_qs(urlsplit(links(response)["prev"]).query)["min_id"] == [str(share.id)]
    assert ids(f"max_id={posts[4].id}&limit=2")[0] == [posts[3].id, posts[2].id]
    assert ids(f"min_id={posts[0].id}&limit=2")[0] == [posts[2].id, posts[1].id]
    assert ids(f"since_id={posts[0].id}&limit=2")[0] == [share.id, posts[4].id]
    assert ids("exclude_reblogs=true&exclude_replies=true&limit=1")[0] == [posts[4].id]
    assert ids("pinned=true")[0] == []
    wrapper = client.get(f"{base}?limit=1").json()[0]
    assert wrapper["reblog"]["id"] == str(share.repost_of_id) and wrapper["content"] == ""
    error_message(client.get(f"{base}?max_id=abc"), 422)
    error_message(client.get(f"{base}?limit=0"), 422)
    Block.objects.create(blocker=author, blocked=me)
    error_message(client.get(base), 404)


def test_account_statuses_query_count_is_constant(client_for, django_assert_num_queries):
    me = AccountFactory()
    authors = AccountFactory.create_batch(3)
    for i in range(12):
        post = PostFactory(author=authors[i % 3])
        if i % 3:
            share_create(user=authors[0], post=post)  # wrappers with other authors' originals
    client = client_for(me)
    client.get(f"/api/v1/accounts/{authors[0].id}/statuses?limit=1")
    embedded_accounts_clear()
    # auth, account, block check, posts, likes, accounts, shares
    with django_assert_num_queries(7):
        response = client.get(f"/api/v1/accounts/{authors[0].id}/statuses?limit=40")
    assert len(response.json()) >= 5
