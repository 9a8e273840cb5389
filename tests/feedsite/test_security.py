"""Rate limits, token revocation, no account enumeration, CSRF on cookie sessions, and blocked
accounts never seeing the blocker's posts anywhere, in both fan-out modes."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from graph.services import block_create, follow_create
from posts.models import Post
from posts.services import comment_create, share_create
from tests.factories import PASSWORD, AccountFactory, PostFactory, token_for
from tests.helpers import assert_error, feed_ids

pytestmark = pytest.mark.django_db

RATES = {"post": "2/minute", "follow": "2/minute", "signup": "2/hour", "token": "2/minute"}


@pytest.fixture
def throttled():
    with override_settings(FEED_THROTTLES=True, FEED_THROTTLE_RATES=RATES):
        yield


def third_is_429(send) -> None:
    assert send().status_code < 400
    assert send().status_code < 400
    response = send()
    assert_error(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_posting_is_rate_limited_per_user(throttled, client_for):
    alice = client_for(AccountFactory())
    third_is_429(lambda: alice.post("/api/posts/", {"body": "hi"}, format="json"))
    assert Post.objects.count() == 2
    # Another user has a budget of their own.
    assert client_for(AccountFactory()).post("/api/posts/", {"body": "hi"}, format="json").status_code == 201


def test_following_is_rate_limited(throttled, client_for):
    me = client_for(AccountFactory())
    targets = [AccountFactory() for _ in range(3)]
    third_is_429(lambda: me.post(f"/api/accounts/{targets.pop().id}/follow/"))


def test_account_creation_is_rate_limited_per_ip(throttled, api):
    names = iter(["ann", "bob", "cyd"])
    third_is_429(
        lambda: api.post("/api/accounts/", {"username": next(names), "password": "a-long-passphrase-42"})
    )


def test_token_requests_are_rate_limited_per_ip(throttled, api):
    account = AccountFactory()
    third_is_429(lambda: api.post("/api/auth/token/", {"username": account.username, "password": PASSWORD}))


def test_throttles_off_by_setting(client_for):
    with override_settings(FEED_THROTTLES=False, FEED_THROTTLE_RATES=RATES):
        alice = client_for(AccountFactory())
        assert all(
            alice.post("/api/posts/", {"body": "x"}, format="json").status_code == 201 for _ in range(5)
        )


def test_a_revoked_token_stops_working_and_a_new_one_can_be_issued(api):
    account = AccountFactory()
    old = token_for(account)
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/feed/").status_code == 200
    assert api.delete("/api/auth/token/").status_code == 204
    assert_error(api.get("/api/feed/"), 401)
    api.credentials()
    response = api.post("/api/auth/token/", {"username": account.username, "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token"] != old


def test_token_errors_do_not_tell_which_accounts_exist(api):
    account = AccountFactory()
    inactive = AccountFactory(is_active=False)
    messages = {
        assert_error(api.post("/api/auth/token/", {"username": name, "password": password}), 400)
        for name, password in [
            (account.username, "wrong-password"),
            ("nobody-by-this-name", "wrong-password"),
            ("nobody-by-this-name", PASSWORD),
            (inactive.username, PASSWORD),
        ]
    }
    assert messages == {"Unable to log in with provided credentials."}


def test_cookie_session_writes_need_the_csrf_token():
    account = AccountFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(account)
    assert client.get("/api/feed/").status_code == 200  # reads need no token
    refused = client.post("/api/posts/", {"body": "forged"}, format="json")
    assert "CSRF" in assert_error(refused, 403)
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post("/api/posts/", {"body": "mine"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 201
    assert list(Post.objects.values_list("body", flat=True)) == ["mine"]


def test_token_writes_need_no_csrf_token(client_for):
    client = client_for(AccountFactory())
    client.handler.enforce_csrf_checks = True
    assert client.post("/api/posts/", {"body": "with a token"}, format="json").status_code == 201


@pytest.mark.parametrize("mode", ["push", "pull"])
def test_blocked_accounts_never_see_the_blockers_posts(mode, client_for, run_commit_hooks):
    blocker = AccountFactory(fanout_override=mode)
    blocked, friend = AccountFactory(), AccountFactory()
    with run_commit_hooks():
        follow_create(follower=blocked, followee=blocker)
        follow_create(follower=blocked, followee=friend)
        post = PostFactory(author=blocker)
        assert post.delivery == mode
        comment_create(author=blocker, post=PostFactory(author=friend), body="by the blocker")
        share, _ = share_create(user=friend, post=post)
    client = client_for(blocked)
    # Before the block it shows (once: the feed shows a post and its shares once).
    assert {post.id, share.id} & set(feed_ids(client))

    with run_commit_hooks():
        block_create(blocker=blocker, blocked=blocked)
        PostFactory(author=blocker)  # and one after it
    visible = feed_ids(client)
    assert not Post.objects.filter(id__in=visible, author=blocker).exists()
    assert share.id not in visible  # a friend's share of the blocker's post
    assert not Post.objects.filter(id__in=visible, repost_of__author=blocker).exists()
    assert_error(client.get(f"/api/accounts/{blocker.id}/posts/"), 404)
    assert_error(client.get(f"/api/posts/{post.id}/"), 404)
    assert_error(client.get(f"/api/posts/{share.id}/"), 404)
    assert_error(client.get(f"/api/posts/{post.id}/comments/"), 404)
    friend_post = Post.objects.filter(author=friend, repost_of__isnull=True).get()
    comments = client.get(f"/api/posts/{friend_post.id}/comments/").json()["results"]
    assert comments == []  # the blocker's comment on someone else's post is hidden too
    for follow_mode in ("chronological", "ranked"):
        response = client.get(f"/api/feed/?mode={follow_mode}&limit=100")
        assert blocker.id not in {p["author"]["id"] for p in response.json()["results"]}


LIST_PATHS = [
    "/api/feed/",
    "/api/accounts/{account}/followers/",
    "/api/accounts/{account}/following/",
    "/api/accounts/{account}/posts/",
    "/api/posts/{post}/comments/",
]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-signed-cursor", "cursor"),
        ("cursor=" + "x" * 600, "cursor"),
    ],
)
def test_every_list_refuses_bad_page_sizes_and_cursors(client_for, path, query, field):
    account = AccountFactory()
    post = PostFactory(author=account)
    url = path.format(account=account.id, post=post.id)
    assert_error(client_for(account).get(f"{url}?{query}"), 400, field)


def test_a_cursor_from_another_list_is_refused(client_for):
    account = AccountFactory()
    PostFactory.create_batch(3, author=account)
    client = client_for(account)
    next_link = client.get(f"/api/accounts/{account.id}/posts/?limit=1").json()["next"]
    cursor = next_link.split("cursor=")[1]
    assert_error(client.get(f"/api/feed/?mode=chronological&cursor={cursor}"), 400, "cursor")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/accounts/", {"username": "u" * 151, "password": "a-long-passphrase-42"}, "username"),
        ("/api/accounts/", {"username": "bad name!", "password": "a-long-passphrase-42"}, "username"),
        ("/api/accounts/", {"username": "okname", "password": "p" * 129}, "password"),
        ("/api/posts/{post}/comments/", {"body": "c" * 2001}, "body"),
        ("/api/posts/", {"body": "nul \x00 byte"}, "body"),
    ],
)
def test_other_inputs_are_bounded(client_for, path, body, field):
    account = AccountFactory()
    url = path.format(post=PostFactory(author=account).id)
    assert_error(client_for(account).post(url, body, format="json"), 400, field)
