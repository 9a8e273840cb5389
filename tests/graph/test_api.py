"""The accounts API: sign-up, tokens, profiles, follow / block / mute, and the follower lists,
against the real PostgreSQL and Redis."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from graph.models import Account, Block, FanoutMode, Follow, Mute
from graph.services import USERNAME_TAKEN, block_create, follow_create
from posts.services import post_delete
from tests.factories import PASSWORD, PostFactory, bulk_followers
from tests.helpers import POST_KEYS, assert_error

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/api/accounts/"
TOKEN_URL = "/api/auth/token/"
BAD_CREDENTIALS = "Unable to log in with provided credentials."


def account_url(account_id: int, action: str = "") -> str:
    return f"/api/accounts/{account_id}/" + (f"{action}/" if action else "")


def cursor_of(next_url: str) -> str:
    (cursor,) = parse_qs(urlsplit(next_url).query)["cursor"]
    return cursor


def counts(api, account: Account) -> tuple[int, int]:
    body = api.get(account_url(account.id)).json()
    return body["followers_count"], body["following_count"]


# -- POST /api/accounts/ --------------------------------------------------------------------


def test_signup_returns_account_and_working_token(api):
    response = api.post(SIGNUP_URL, {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    body = response.json()
    account = Account.objects.get(username="alice")
    assert set(body) == {"id", "username", "token"}
    assert body["id"] == account.id
    assert body["username"] == "alice"
    assert account.check_password(PASSWORD)
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/feed/").status_code == 200


def test_signup_token_is_the_one_login_returns(api):
    signup = api.post(SIGNUP_URL, {"username": "bob", "password": PASSWORD}, format="json").json()

    login = api.post(TOKEN_URL, {"username": "bob", "password": PASSWORD}, format="json")

    assert login.status_code == 200
    assert login.json() == {"token": signup["token"]}


def test_signup_rejects_taken_username(api, make_account):
    make_account(username="alice")

    response = api.post(SIGNUP_URL, {"username": "alice", "password": PASSWORD}, format="json")

    assert assert_error(response, 400, "username") == f"username: {USERNAME_TAKEN}"
    assert Account.objects.filter(username__iexact="alice").count() == 1


def test_signup_rejects_username_taken_in_another_case(api, make_account):
    make_account(username="alice")

    response = api.post(SIGNUP_URL, {"username": "Alice", "password": PASSWORD}, format="json")

    assert assert_error(response, 400, "username") == f"username: {USERNAME_TAKEN}"
    assert Account.objects.filter(username__iexact="alice").count() == 1


def test_signup_rejects_username_equal_after_unicode_normalisation(api, make_account):
    # Fullwidth letters normalise (NFKC) to "alice": no impersonation, and no 500.
    make_account(username="alice")

    response = api.post(SIGNUP_URL, {"username": "\uff41lice", "password": PASSWORD}, format="json")

    assert assert_error(response, 400, "username") == f"username: {USERNAME_TAKEN}"
    assert Account.objects.count() == 1


@pytest.mark.parametrize("username", ["bad name!", "semi;colon", "a/b", "x" * 151, "", "   "])
def test_signup_rejects_invalid_username(api, username):
    response = api.post(SIGNUP_URL, {"username": username, "password": PASSWORD}, format="json")

    assert assert_error(response, 400, "username").startswith("username: ")
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "password",
    [
        "short",  # too short
        "password123",  # too common
        "12345678901234",  # entirely numeric
        "carol-the-user",  # too similar to the username
        "",
        "            ",  # only spaces
    ],
)
def test_signup_rejects_weak_password(api, password):
    response = api.post(SIGNUP_URL, {"username": "carol-the-user", "password": password}, format="json")

    assert assert_error(response, 400, "password").startswith("password: ")
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"password": PASSWORD}, "username"), ({"username": "dave"}, "password"), ({}, "username")],
)
def test_signup_rejects_missing_field(api, payload, field):
    response = api.post(SIGNUP_URL, payload, format="json")

    assert assert_error(response, 400, field) == f"{field}: This field is required."
    assert not Account.objects.exists()


@pytest.mark.parametrize("raw", ['["alice", "pw"]', '"alice"', "42", "null", "true"])
def test_signup_rejects_non_object_json_body(api, raw):
    response = api.post(SIGNUP_URL, raw, content_type="application/json")

    assert_error(response, 400)
    assert not Account.objects.exists()


def test_signup_rejects_malformed_json(api):
    response = api.post(SIGNUP_URL, '{"username": ', content_type="application/json")

    assert_error(response, 400)


def test_signup_allowed_while_authenticated_and_does_not_need_auth(client_for, make_account):
    response = client_for(make_account()).post(
        SIGNUP_URL, {"username": "erin", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["username"] == "erin"


# -- POST /api/auth/token/ -------------------------------------------------------------------


def test_token_login_returns_the_accounts_token(api, make_account):
    account = make_account()

    response = api.post(TOKEN_URL, {"username": account.username, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token"}
    assert account.auth_token.key == body["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/feed/").status_code == 200


def test_token_login_wrong_password_is_400(api, make_account):
    account = make_account()

    response = api.post(TOKEN_URL, {"username": account.username, "password": "wrong-pass"}, format="json")

    assert assert_error(response, 400) == BAD_CREDENTIALS
    assert "token" not in response.json()


def test_token_login_unknown_user_looks_exactly_like_wrong_password(api, make_account):
    account = make_account()

    wrong_password = api.post(
        TOKEN_URL, {"username": account.username, "password": "wrong-pass"}, format="json"
    )
    unknown_user = api.post(TOKEN_URL, {"username": "nobody-here", "password": "wrong-pass"}, format="json")

    assert unknown_user.status_code == wrong_password.status_code == 400
    assert unknown_user.json() == wrong_password.json()
    assert unknown_user.json()["detail"] == BAD_CREDENTIALS


def test_token_login_inactive_account_is_refused_like_bad_credentials(api, make_account):
    account = make_account(is_active=False)

    response = api.post(TOKEN_URL, {"username": account.username, "password": PASSWORD}, format="json")

    assert assert_error(response, 400) == BAD_CREDENTIALS


@pytest.mark.parametrize(("payload", "field"), [({"username": "x"}, "password"), ({}, "username")])
def test_token_login_missing_field_is_400(api, payload, field):
    response = api.post(TOKEN_URL, payload, format="json")

    assert assert_error(response, 400, field) == f"{field}: This field is required."


def test_token_login_non_object_body_is_400(api):
    assert_error(api.post(TOKEN_URL, "[1, 2]", content_type="application/json"), 400)


def test_invalid_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert_error(api.get("/api/feed/"), 401)


# -- GET /api/accounts/{id}/ ------------------------------------------------------------------


def test_account_detail_shape(api, make_account):
    account = make_account()

    response = api.get(account_url(account.id))

    assert response.status_code == 200
    assert response.json() == {
        "id": account.id,
        "username": account.username,
        "followers_count": 0,
        "following_count": 0,
        "fanout_mode": "push",
    }


def test_account_detail_unknown_id_is_404(api, make_account):
    account = make_account()

    assert_error(api.get(account_url(account.id + 1000)), 404)


def test_account_detail_out_of_range_id_is_404_not_500(api, db):
    assert_error(api.get(account_url(10**30)), 404)


def test_account_detail_inactive_account_is_404(api, make_account):
    account = make_account(is_active=False)

    assert_error(api.get(account_url(account.id)), 404)


def test_account_list_is_not_exposed(api, make_account):
    make_account()

    assert_error(api.get(SIGNUP_URL), 405)


def test_fanout_mode_is_pull_at_the_celebrity_threshold(api, make_account):
    author = make_account()
    bulk_followers(author, 3)

    call_command("feed_config", celebrity_threshold=4)
    below = api.get(account_url(author.id)).json()
    call_command("feed_config", celebrity_threshold=3)
    at = api.get(account_url(author.id)).json()

    assert below["followers_count"] == at["followers_count"] == 3
    assert below["fanout_mode"] == "push"
    assert at["fanout_mode"] == "pull"


def test_fanout_mode_follows_the_override(api, make_account):
    forced_pull = make_account(fanout_override=FanoutMode.PULL)
    forced_push = make_account(fanout_override=FanoutMode.PUSH)
    bulk_followers(forced_push, 2)
    call_command("feed_config", celebrity_threshold=1)

    assert api.get(account_url(forced_pull.id)).json()["fanout_mode"] == "pull"
    assert api.get(account_url(forced_push.id)).json()["fanout_mode"] == "push"


# -- follow ----------------------------------------------------------------------------------


RELATIONS = {"follow": Follow, "block": Block, "mute": Mute}


@pytest.mark.parametrize("relation", RELATIONS)
def test_relation_with_yourself_is_400(api, client_for, make_account, relation):
    alice = make_account()

    response = client_for(alice).post(account_url(alice.id, relation))

    assert assert_error(response, 400) == f"You cannot {relation} yourself."
    assert not RELATIONS[relation].objects.exists()
    assert counts(api, alice) == (0, 0)


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("method", ["post", "delete"])
def test_relation_with_unknown_account_is_404(client_for, make_account, relation, method):
    alice = make_account()

    assert_error(getattr(client_for(alice), method)(account_url(alice.id + 1000, relation)), 404)


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("method", ["post", "delete"])
def test_relation_anonymous_is_401(api, make_account, relation, method):
    bob = make_account()

    assert_error(getattr(api, method)(account_url(bob.id, relation)), 401)
    assert not RELATIONS[relation].objects.exists()


def test_follow_creates_edge_and_returns_followee(api, client_for, make_account):
    alice, bob = make_account(), make_account()

    response = client_for(alice).post(account_url(bob.id, "follow"))

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == bob.id
    assert body["username"] == bob.username
    assert body["followers_count"] == 1
    assert Follow.objects.filter(follower=alice, followee=bob).exists()
    assert counts(api, bob) == (1, 0)
    assert counts(api, alice) == (0, 1)


def test_follow_twice_is_200_and_counts_once(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "follow"))

    response = client.post(account_url(bob.id, "follow"))

    assert response.status_code == 200
    assert response.json()["followers_count"] == 1
    assert Follow.objects.filter(follower=alice, followee=bob).count() == 1
    assert counts(api, bob) == (1, 0)
    assert counts(api, alice) == (0, 1)


def test_unfollow_removes_edge_and_counts(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "follow"))

    response = client.delete(account_url(bob.id, "follow"))

    assert response.status_code == 204
    assert not response.content
    assert not Follow.objects.exists()
    assert counts(api, bob) == (0, 0)
    assert counts(api, alice) == (0, 0)


def test_unfollow_when_not_following_is_204_and_counts_stay(api, client_for, make_account):
    alice, bob, carol = make_account(), make_account(), make_account()
    follow_create(follower=carol, followee=bob)

    response = client_for(alice).delete(account_url(bob.id, "follow"))

    assert response.status_code == 204
    assert counts(api, bob) == (1, 0)
    assert counts(api, alice) == (0, 0)
    assert counts(api, carol) == (0, 1)


def test_follow_counts_track_many_followers(api, client_for, make_account):
    star = make_account()
    fans = [make_account() for _ in range(3)]
    for fan in fans:
        assert client_for(fan).post(account_url(star.id, "follow")).status_code == 201
    client_for(fans[0]).delete(account_url(star.id, "follow"))

    assert counts(api, star) == (2, 0)
    assert [counts(api, fan) for fan in fans] == [(0, 0), (0, 1), (0, 1)]


def test_follow_adds_followees_posts_to_feed(client_for, make_account, run_commit_hooks):
    alice, bob = make_account(), make_account()
    post = PostFactory(author=bob)

    with run_commit_hooks():
        client_for(alice).post(account_url(bob.id, "follow"))
    feed = client_for(alice).get("/api/feed/").json()

    assert [p["id"] for p in feed["results"]] == [post.id]


# -- block -----------------------------------------------------------------------------------


def test_block_creates_block_and_returns_target(client_for, make_account):
    alice, bob = make_account(), make_account()

    response = client_for(alice).post(account_url(bob.id, "block"))

    assert response.status_code == 201
    assert response.json()["id"] == bob.id
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


def test_block_twice_is_200(client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "block"))

    response = client.post(account_url(bob.id, "block"))

    assert response.status_code == 200
    assert response.json()["id"] == bob.id
    assert Block.objects.filter(blocker=alice, blocked=bob).count() == 1


def test_block_removes_follows_both_ways_and_counts(api, client_for, make_account):
    alice, bob, carol = make_account(), make_account(), make_account()
    follow_create(follower=alice, followee=bob)
    follow_create(follower=bob, followee=alice)
    follow_create(follower=carol, followee=alice)
    follow_create(follower=carol, followee=bob)

    response = client_for(alice).post(account_url(bob.id, "block"))

    assert response.status_code == 201
    assert response.json()["followers_count"] == 1  # carol only
    assert response.json()["following_count"] == 0
    assert not Follow.objects.filter(follower=alice, followee=bob).exists()
    assert not Follow.objects.filter(follower=bob, followee=alice).exists()
    assert counts(api, alice) == (1, 0)
    assert counts(api, bob) == (1, 0)
    assert counts(api, carol) == (0, 2)


def test_unblock_is_204_and_does_not_restore_follows(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    follow_create(follower=bob, followee=alice)
    client = client_for(alice)
    client.post(account_url(bob.id, "block"))

    response = client.delete(account_url(bob.id, "block"))

    assert response.status_code == 204
    assert not Block.objects.exists()
    assert not Follow.objects.exists()
    assert counts(api, alice) == (0, 0)


def test_unblock_when_not_blocking_is_204(client_for, make_account):
    alice, bob = make_account(), make_account()
    block_create(blocker=bob, blocked=alice)  # the other direction stays

    response = client_for(alice).delete(account_url(bob.id, "block"))

    assert response.status_code == 204
    assert Block.objects.filter(blocker=bob, blocked=alice).exists()


def test_follow_account_that_blocked_you_is_403(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    block_create(blocker=bob, blocked=alice)

    response = client_for(alice).post(account_url(bob.id, "follow"))

    assert assert_error(response, 403) == "You cannot follow an account that has blocked you."
    assert not Follow.objects.exists()
    assert counts(api, bob) == (0, 0)


def test_follow_account_you_blocked_is_400(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    block_create(blocker=alice, blocked=bob)

    response = client_for(alice).post(account_url(bob.id, "follow"))

    assert assert_error(response, 400) == "Unblock this account before following it."
    assert not Follow.objects.exists()
    assert counts(api, alice) == (0, 0)


def test_follow_again_after_unblock(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "block"))
    client.delete(account_url(bob.id, "block"))

    response = client.post(account_url(bob.id, "follow"))

    assert response.status_code == 201
    assert counts(api, bob) == (1, 0)


# -- mute ------------------------------------------------------------------------------------


def test_mute_creates_mute_and_keeps_follow(api, client_for, make_account):
    alice, bob = make_account(), make_account()
    follow_create(follower=alice, followee=bob)

    response = client_for(alice).post(account_url(bob.id, "mute"))

    assert response.status_code == 201
    assert response.json()["id"] == bob.id
    assert Mute.objects.filter(muter=alice, muted=bob).exists()
    assert Follow.objects.filter(follower=alice, followee=bob).exists()
    assert counts(api, bob) == (1, 0)


def test_mute_twice_is_200(client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "mute"))

    response = client.post(account_url(bob.id, "mute"))

    assert response.status_code == 200
    assert Mute.objects.filter(muter=alice, muted=bob).count() == 1


def test_unmute_is_204_also_when_not_muting(client_for, make_account):
    alice, bob = make_account(), make_account()
    client = client_for(alice)
    client.post(account_url(bob.id, "mute"))

    first = client.delete(account_url(bob.id, "mute"))
    second = client.delete(account_url(bob.id, "mute"))

    assert first.status_code == second.status_code == 204
    assert not Mute.objects.exists()


def test_mute_hides_and_unmute_restores_posts_in_feed(client_for, make_account, run_commit_hooks):
    alice, bob = make_account(), make_account()
    with run_commit_hooks():
        follow_create(follower=alice, followee=bob)
        post = PostFactory(author=bob)
    client = client_for(alice)
    assert [p["id"] for p in client.get("/api/feed/").json()["results"]] == [post.id]

    with run_commit_hooks():
        client.post(account_url(bob.id, "mute"))
    muted = client.get("/api/feed/").json()["results"]
    with run_commit_hooks():
        client.delete(account_url(bob.id, "mute"))
    unmuted = client.get("/api/feed/").json()["results"]

    assert muted == []
    assert [p["id"] for p in unmuted] == [post.id]


# -- followers / following lists -------------------------------------------------------------


def walk(client, url: str) -> tuple[list[int], int]:
    """Every id across all pages, and the number of pages."""
    ids: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"results", "next"}
        ids.extend(item["id"] for item in body["results"])
        pages += 1
        url = body["next"]
        assert pages < 50
    return ids, pages


def test_followers_lists_accounts_newest_edge_first(api, make_account):
    star = make_account()
    fans = [make_account() for _ in range(3)]
    for fan in fans:
        follow_create(follower=fan, followee=star)
    star.refresh_from_db()

    response = api.get(account_url(star.id, "followers"))

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [a["id"] for a in body["results"]] == [f.id for f in reversed(fans)]
    newest = fans[-1]
    assert body["results"][0] == {
        "id": newest.id,
        "username": newest.username,
        "followers_count": 0,
        "following_count": 1,
        "fanout_mode": "push",
    }


def test_followers_walk_all_pages_each_once_in_order(api, make_account):
    star = make_account()
    fans = [make_account() for _ in range(7)]
    for fan in fans:
        follow_create(follower=fan, followee=star)

    ids, pages = walk(api, account_url(star.id, "followers") + "?limit=3")

    assert pages == 3
    assert ids == [f.id for f in reversed(fans)]
    assert len(set(ids)) == 7


def test_following_walk_all_pages_each_once_in_order(api, make_account):
    fan = make_account()
    stars = [make_account() for _ in range(7)]
    for star in stars:
        follow_create(follower=fan, followee=star)

    ids, pages = walk(api, account_url(fan.id, "following") + "?limit=3")

    assert pages == 3
    assert ids == [s.id for s in reversed(stars)]


def test_following_is_ordered_by_follow_time_not_account_id(api, make_account):
    fan, older, newer = make_account(), make_account(), make_account()
    follow_create(follower=fan, followee=newer)
    follow_create(follower=fan, followee=older)

    body = api.get(account_url(fan.id, "following")).json()

    assert [a["id"] for a in body["results"]] == [older.id, newer.id]


def test_followers_page_exactly_full_has_no_next(api, make_account):
    star = make_account()
    fans = [make_account() for _ in range(3)]
    for fan in fans:
        follow_create(follower=fan, followee=star)

    body = api.get(account_url(star.id, "followers") + "?limit=3").json()

    assert len(body["results"]) == 3
    assert body["next"] is None


def test_followers_default_limit_is_20(api, make_account):
    star = make_account()
    fans = bulk_followers(star, 21)

    body = api.get(account_url(star.id, "followers")).json()

    assert len(body["results"]) == 20
    assert body["next"] is not None
    rest = api.get(body["next"]).json()
    assert [a["id"] for a in rest["results"]] == [fans[0].id]
    assert rest["next"] is None


def test_followers_limit_bounds_are_accepted(api, make_account):
    star = make_account()
    bulk_followers(star, 2)

    one = api.get(account_url(star.id, "followers") + "?limit=1").json()
    hundred = api.get(account_url(star.id, "followers") + "?limit=100").json()

    assert len(one["results"]) == 1 and one["next"] is not None
    assert len(hundred["results"]) == 2 and hundred["next"] is None


@pytest.mark.parametrize("action", ["followers", "following"])
@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "2.5", "+3", " 3", "1_0", "\u0663", "0003"])
def test_followers_bad_limit_is_400(api, make_account, action, limit):
    star = make_account()

    response = api.get(account_url(star.id, action), {"limit": limit})

    assert assert_error(response, 400, "limit") == "limit: Must be an integer from 1 to 100."


def test_followers_tampered_cursor_is_400(api, make_account):
    star = make_account()
    bulk_followers(star, 3)
    cursor = cursor_of(api.get(account_url(star.id, "followers") + "?limit=1").json()["next"])
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert api.get(account_url(star.id, "followers"), {"limit": 1, "cursor": cursor}).status_code == 200

    response = api.get(account_url(star.id, "followers"), {"limit": 1, "cursor": tampered})

    assert assert_error(response, 400, "cursor") == "cursor: Invalid or tampered cursor."


@pytest.mark.parametrize("cursor", ["garbage", "a:b:c", "x" * 600, "\u00e9:\u00e9"])
def test_followers_junk_cursor_is_400(api, make_account, cursor):
    star = make_account()

    response = api.get(account_url(star.id, "followers"), {"cursor": cursor})

    assert_error(response, 400, "cursor")


def test_cursor_from_followers_is_refused_by_following(api, make_account):
    account = make_account()
    bulk_followers(account, 3)
    for _ in range(3):
        follow_create(follower=account, followee=make_account())
    cursor = cursor_of(api.get(account_url(account.id, "followers") + "?limit=1").json()["next"])

    # The same cursor is fine where it came from...
    assert api.get(account_url(account.id, "followers"), {"limit": 1, "cursor": cursor}).status_code == 200
    response = api.get(account_url(account.id, "following"), {"limit": 1, "cursor": cursor})

    assert assert_error(response, 400, "cursor") == "cursor: Invalid or tampered cursor."


def test_followers_of_unknown_account_is_404(api, make_account):
    account = make_account()

    assert_error(api.get(account_url(account.id + 1000, "followers")), 404)
    assert_error(api.get(account_url(account.id + 1000, "following")), 404)


def test_followers_list_drops_unfollowers(api, client_for, make_account):
    star = make_account()
    stay, leave = make_account(), make_account()
    follow_create(follower=stay, followee=star)
    follow_create(follower=leave, followee=star)

    client_for(leave).delete(account_url(star.id, "follow"))
    body = api.get(account_url(star.id, "followers")).json()

    assert [a["id"] for a in body["results"]] == [stay.id]


# -- GET /api/accounts/{id}/posts/ -----------------------------------------------------------


def test_account_posts_newest_first_for_anonymous(api, make_account):
    author, other = make_account(), make_account()
    posts = [PostFactory(author=author) for _ in range(3)]
    PostFactory(author=other)

    response = api.get(account_url(author.id, "posts"))

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [p["id"] for p in body["results"]] == [p.id for p in reversed(posts)]
    first = body["results"][0]
    assert first["author"] == {"id": author.id, "username": author.username}
    assert first["body"] == posts[-1].body
    assert set(first) == POST_KEYS


def test_account_posts_exclude_deleted(api, make_account):
    author = make_account()
    kept, deleted = PostFactory(author=author), PostFactory(author=author)
    post_delete(post=deleted, actor=author)

    body = api.get(account_url(author.id, "posts")).json()

    assert [p["id"] for p in body["results"]] == [kept.id]


def test_account_posts_walk_all_pages(api, make_account):
    author = make_account()
    posts = [PostFactory(author=author) for _ in range(7)]
    post_delete(post=posts[3], actor=author)

    ids, pages = walk(api, account_url(author.id, "posts") + "?limit=2")

    assert ids == [p.id for p in reversed(posts) if p.id != posts[3].id]
    assert pages == 3


def test_account_posts_bad_limit_and_cursor_are_400(api, make_account):
    author = make_account()

    assert_error(api.get(account_url(author.id, "posts"), {"limit": "0"}), 400, "limit")
    assert_error(api.get(account_url(author.id, "posts"), {"cursor": "nope"}), 400, "cursor")


def test_account_posts_refuse_a_followers_cursor(api, make_account):
    author = make_account()
    bulk_followers(author, 2)
    for _ in range(2):
        PostFactory(author=author)
    cursor = cursor_of(api.get(account_url(author.id, "followers") + "?limit=1").json()["next"])

    response = api.get(account_url(author.id, "posts"), {"cursor": cursor})

    assert_error(response, 400, "cursor")


def test_account_posts_404_when_author_blocked_you(client_for, make_account):
    author, viewer = make_account(), make_account()
    PostFactory(author=author)
    block_create(blocker=author, blocked=viewer)

    response = client_for(viewer).get(account_url(author.id, "posts"))

    assert_error(response, 404)


def test_account_posts_still_visible_to_others_when_author_blocked_someone(client_for, make_account):
    author, blocked, bystander = make_account(), make_account(), make_account()
    post = PostFactory(author=author)
    block_create(blocker=author, blocked=blocked)

    body = client_for(bystander).get(account_url(author.id, "posts")).json()

    assert [p["id"] for p in body["results"]] == [post.id]


def test_account_posts_of_unknown_account_is_404(api, make_account):
    author = make_account()

    assert_error(api.get(account_url(author.id + 1000, "posts")), 404)
