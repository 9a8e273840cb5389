"""Suggestions on the real PostgreSQL: friends of friends weighted by how many followees follow
them, popular active accounts for a new account, the exclusions (self, followed, blocked or
muted either way, dismissed, inactive), the sample bounds, and both APIs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from graph import suggestions
from graph.models import Account, Dismissal
from graph.services import block_create, follow_create, mute_create
from graph.suggestions import suggestion_dismiss, suggestions_for
from posts.models import Post
from tests.factories import AccountFactory, PostFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def ids(viewer: Account, limit: int = 20) -> list[int]:
    viewer.refresh_from_db()
    return [s.account_id for s in suggestions_for(viewer=viewer, limit=limit)]


@pytest.fixture
def graph(db):
    """me follows a and b; a follows x, y; b follows x, z and me: x is followed by two friends."""
    me, a, b, x, y, z = AccountFactory.create_batch(6)
    for follower, followee in [(me, a), (me, b), (a, x), (a, y), (b, x), (b, z), (b, me)]:
        follow_create(follower=follower, followee=followee)
    return {"me": me, "a": a, "b": b, "x": x, "y": y, "z": z}


def test_friends_of_friends_weighted_never_self_or_followed(graph):
    me, x, y, z = graph["me"], graph["x"], graph["y"], graph["z"]
    found = suggestions_for(viewer=Account.objects.get(pk=me.pk), limit=10)
    assert found[0].account_id == x.id and found[0].weight == 2
    assert {s.account_id for s in found} == {x.id, y.id, z.id}
    assert {s.source for s in found} == {"friends_of_friends"}


@pytest.mark.parametrize(
    "relation",
    ["block", "blocked_by", "mute", "muted_by", "dismissed", "inactive"],
)
def test_exclusions(graph, relation):
    me, x = graph["me"], graph["x"]
    if relation == "block":
        block_create(blocker=me, blocked=x)
    elif relation == "blocked_by":
        block_create(blocker=x, blocked=me)
    elif relation == "mute":
        mute_create(muter=me, muted=x)
    elif relation == "muted_by":
        mute_create(muter=x, muted=me)
    elif relation == "dismissed":
        suggestion_dismiss(account=me, dismissed_id=x.id)
    else:
        Account.objects.filter(pk=x.pk).update(is_active=False)
    assert x.id not in ids(me)


def test_a_new_account_gets_popular_active_accounts(db):
    popular, quiet, lapsed = AccountFactory.create_batch(3)
    Account.objects.filter(pk=popular.pk).update(followers_count=50)
    Account.objects.filter(pk=quiet.pk).update(followers_count=5)
    Account.objects.filter(pk=lapsed.pk).update(followers_count=500)
    for author in (popular, quiet, lapsed):
        PostFactory(author=author)
    Post.objects.filter(author=lapsed).update(created_at=timezone.now() - timedelta(days=40))
    newcomer = AccountFactory()
    found = suggestions_for(viewer=newcomer, limit=10)
    assert [s.account_id for s in found] == [popular.id, quiet.id]
    assert {s.source for s in found} == {"most_followed"}
    suggestion_dismiss(account=newcomer, dismissed_id=popular.id)
    suggestion_dismiss(account=newcomer, dismissed_id=popular.id)  # idempotent
    suggestion_dismiss(account=newcomer, dismissed_id=newcomer.id)  # ignored
    assert ids(newcomer) == [quiet.id]
    assert Dismissal.objects.filter(account=newcomer).count() == 1


def test_friends_of_friends_are_filled_up_with_popular_accounts(graph):
    star = AccountFactory()
    Account.objects.filter(pk=star.pk).update(followers_count=99)
    PostFactory(author=star)
    assert ids(graph["me"])[-1] == star.id
    assert ids(graph["me"], limit=1) == [graph["x"].id]


def test_the_graph_walk_is_sampled(graph, monkeypatch):
    """Only the newest EDGES_PER_FOLLOW follows of each followee count (and FOLLOWS_SAMPLED of
    the viewer's): with one each, b's newest (me, excluded) is all that b contributes."""
    monkeypatch.setattr(suggestions, "EDGES_PER_FOLLOW", 1)
    assert ids(graph["me"]) == [graph["y"].id]
    monkeypatch.setattr(suggestions, "FOLLOWS_SAMPLED", 1)  # the newest follow: b
    assert ids(graph["me"]) == []


def test_our_api_lists_and_dismisses(graph, client_for, api):
    client = client_for(graph["me"])
    body = client.get("/api/suggestions/").json()
    first = body["results"][0]
    assert first["account"]["id"] == graph["x"].id and first["source"] == "friends_of_friends"
    assert first["weight"] == 2 and first["account"]["username"] == graph["x"].username
    assert len(client.get("/api/suggestions/?limit=1").json()["results"]) == 1
    assert client.delete(f"/api/suggestions/{graph['x'].id}/").status_code == 204
    assert graph["x"].id not in [
        r["account"]["id"] for r in client.get("/api/suggestions/").json()["results"]
    ]
    assert_error(client.get("/api/suggestions/?limit=0"), 400, "limit")
    assert_error(client.delete("/api/suggestions/abc/"), 404)
    assert_error(api.get("/api/suggestions/"), 401)


def test_mastodon_v2_suggestions_and_dismissal(graph, client_for, api):
    client = client_for(graph["me"])
    response = client.get("/api/v2/suggestions")
    assert response.status_code == 200
    first = response.json()[0]
    assert first["source"] == "past_interactions" and first["sources"] == ["friends_of_friends"]
    assert first["account"]["id"] == str(graph["x"].id) and first["account"]["acct"] == graph["x"].username
    assert len(client.get("/api/v2/suggestions?limit=1").json()) == 1
    assert client.delete(f"/api/v1/suggestions/{graph['x'].id}").json() == {}
    assert str(graph["x"].id) not in [s["account"]["id"] for s in client.get("/api/v2/suggestions/").json()]
    assert client.get("/api/v2/suggestions?limit=x").status_code == 422
    assert client.delete("/api/v1/suggestions/abc").status_code == 404
    assert api.get("/api/v2/suggestions").status_code == 401
