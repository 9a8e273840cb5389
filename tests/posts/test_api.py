"""The posts API: create, read and delete posts, and deletion reaching followers' feeds at once,
against the real PostgreSQL and Redis."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.management import call_command

from graph.services import block_create, follow_create
from posts.models import Delivery, Post
from tests.factories import PostFactory, bulk_followers
from tests.helpers import POST_KEYS, assert_error
from timelines.keys import timeline_key

pytestmark = pytest.mark.django_db

POSTS_URL = "/api/posts/"
FEED_URL = "/api/feed/"


def post_url(post_id: int) -> str:
    return f"{POSTS_URL}{post_id}/"


def feed_ids(client) -> list[int]:
    response = client.get(FEED_URL)
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["results"]]


# -- POST /api/posts/ ------------------------------------------------------------------------


def test_create_post_returns_201_and_the_post(client_for, make_account):
    author = make_account()
    urls = ["https://img.example.com/a.png", "http://example.org/b.jpg"]

    response = client_for(author).post(POSTS_URL, {"body": "hello world", "media_urls": urls}, format="json")

    assert response.status_code == 201
    body = response.json()
    post = Post.objects.get()
    assert set(body) == POST_KEYS
    assert body["id"] == post.id
    assert body["author"] == {"id": author.id, "username": author.username}
    assert body["body"] == "hello world"
    assert body["media_urls"] == urls
    assert datetime.fromisoformat(body["created_at"]) == post.created_at
    assert post.author_id == author.id
    assert post.media_urls == urls
    assert post.deleted_at is None


def test_create_post_without_media_urls_stores_empty_list(client_for, make_account):
    author = make_account()

    response = client_for(author).post(POSTS_URL, {"body": "text only"}, format="json")

    assert response.status_code == 201
    assert response.json()["media_urls"] == []
    assert Post.objects.get().media_urls == []


def test_create_post_accepts_exactly_2000_chars(client_for, make_account):
    body = "x" * 2000

    response = client_for(make_account()).post(POSTS_URL, {"body": body}, format="json")

    assert response.status_code == 201
    assert response.json()["body"] == body
    assert len(Post.objects.get().body) == 2000


def test_create_post_accepts_exactly_4_media_urls(client_for, make_account):
    urls = [f"https://cdn.example.com/{i}.png" for i in range(4)]

    response = client_for(make_account()).post(POSTS_URL, {"body": "four", "media_urls": urls}, format="json")

    assert response.status_code == 201
    assert response.json()["media_urls"] == urls


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n\t "}, "body"),
        ({"body": "x" * 2001}, "body"),
        ({}, "body"),
        ({"body": None}, "body"),
        ({"body": "nul \x00 byte"}, "body"),
        ({"body": "ok", "media_urls": [f"https://e.com/{i}.png" for i in range(5)]}, "media_urls"),
        ({"body": "ok", "media_urls": ["ftp://files.example.com/a.png"]}, "media_urls"),
        ({"body": "ok", "media_urls": ["javascript:alert(1)"]}, "media_urls"),
        ({"body": "ok", "media_urls": ["not a url"]}, "media_urls"),
        (
            {"body": "ok", "media_urls": ["https://ok.example.com/a.png", "ftp://x.example.com/b"]},
            "media_urls",
        ),
        ({"body": "ok", "media_urls": "https://e.com/a.png"}, "media_urls"),
        ({"body": "ok", "media_urls": {"0": "https://e.com/a.png"}}, "media_urls"),
        ({"body": "ok", "media_urls": 7}, "media_urls"),
        ({"body": "ok", "media_urls": None}, "media_urls"),
        ({"body": "ok", "media_urls": [123]}, "media_urls"),
    ],
    ids=[
        "empty-body",
        "blank-body",
        "2001-chars",
        "missing-body",
        "null-body",
        "nul-char-body",
        "5-urls",
        "ftp-url",
        "javascript-url",
        "not-a-url",
        "one-bad-url-among-good",
        "string-media-urls",
        "object-media-urls",
        "number-media-urls",
        "null-media-urls",
        "number-in-media-urls",
    ],
)
def test_create_post_rejects_invalid_input(client_for, make_account, payload, field):
    response = client_for(make_account()).post(POSTS_URL, payload, format="json")

    assert assert_error(response, 400, field).startswith(f"{field}")
    assert not Post.objects.exists()


def test_create_post_ftp_url_error_says_only_http_allowed(client_for, make_account):
    response = client_for(make_account()).post(
        POSTS_URL, {"body": "ok", "media_urls": ["ftp://files.example.com/a.png"]}, format="json"
    )

    assert "Only http(s) URLs are allowed." in response.json()["errors"]["media_urls"]["0"]


@pytest.mark.parametrize("raw", ['["hello"]', '"hello"', "null"])
def test_create_post_rejects_non_object_body(client_for, make_account, raw):
    response = client_for(make_account()).post(POSTS_URL, raw, content_type="application/json")

    assert_error(response, 400)
    assert not Post.objects.exists()


def test_create_post_anonymous_is_401(api, db):
    response = api.post(POSTS_URL, {"body": "hello"}, format="json")

    assert_error(response, 401)
    assert not Post.objects.exists()


def test_create_post_author_is_the_authenticated_user_not_the_payload(client_for, make_account):
    author, other = make_account(), make_account()

    response = client_for(author).post(
        POSTS_URL, {"body": "mine", "author": {"id": other.id}, "id": 999999}, format="json"
    )

    assert response.status_code == 201
    post = Post.objects.get()
    assert post.author_id == author.id
    assert response.json()["id"] == post.id != 999999


def test_created_post_reaches_a_followers_feed(client_for, make_account, run_commit_hooks):
    author, follower = make_account(), make_account()
    follow_create(follower=follower, followee=author)

    with run_commit_hooks():
        response = client_for(author).post(POSTS_URL, {"body": "fan me out"}, format="json")

    assert feed_ids(client_for(follower)) == [response.json()["id"]]


def test_created_post_uses_pull_delivery_at_the_threshold(client_for, make_account):
    author = make_account()
    bulk_followers(author, 2)
    call_command("feed_config", celebrity_threshold=2)

    response = client_for(author).post(POSTS_URL, {"body": "celebrity"}, format="json")

    assert response.status_code == 201
    assert Post.objects.get(pk=response.json()["id"]).delivery == Delivery.PULL


# -- GET /api/posts/{id}/ --------------------------------------------------------------------


def test_get_post_returns_it_to_anyone(api, client_for, make_account):
    author = make_account()
    post = PostFactory(author=author, media_urls=["https://e.com/x.png"])

    anonymous = api.get(post_url(post.id))
    signed_in = client_for(make_account()).get(post_url(post.id))

    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.json() == signed_in.json()
    body = anonymous.json()
    assert body["id"] == post.id
    assert body["author"] == {"id": author.id, "username": author.username}
    assert body["body"] == post.body
    assert body["media_urls"] == ["https://e.com/x.png"]


def test_get_unknown_post_is_404(api):
    post = PostFactory()

    assert_error(api.get(post_url(post.id + 1000)), 404)


def test_get_deleted_post_is_404(api, client_for, make_account):
    author = make_account()
    post = PostFactory(author=author)
    client_for(author).delete(post_url(post.id))

    assert_error(api.get(post_url(post.id)), 404)
    assert_error(client_for(author).get(post_url(post.id)), 404)


def test_get_post_of_author_who_blocked_you_is_404(api, client_for, make_account):
    author, viewer = make_account(), make_account()
    post = PostFactory(author=author)
    block_create(blocker=author, blocked=viewer)

    assert_error(client_for(viewer).get(post_url(post.id)), 404)
    # Everyone else still sees it, and the author still sees it.
    assert api.get(post_url(post.id)).status_code == 200
    assert client_for(make_account()).get(post_url(post.id)).status_code == 200
    assert client_for(author).get(post_url(post.id)).status_code == 200


def test_get_post_visible_again_after_unblock(client_for, make_account):
    author, viewer = make_account(), make_account()
    post = PostFactory(author=author)
    block_create(blocker=author, blocked=viewer)
    client_for(author).delete(f"/api/accounts/{viewer.id}/block/")

    assert client_for(viewer).get(post_url(post.id)).json()["id"] == post.id


def test_post_list_is_not_exposed(api, db):
    assert_error(api.get(POSTS_URL), 405)


# -- DELETE /api/posts/{id}/ -----------------------------------------------------------------


def test_author_deletes_post(client_for, make_account):
    author = make_account()
    post = PostFactory(author=author)

    response = client_for(author).delete(post_url(post.id))

    assert response.status_code == 204
    assert not response.content
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert post.deleted_by_id == author.id


def test_staff_deletes_someone_elses_post(api, client_for, make_account):
    author, moderator = make_account(), make_account(is_staff=True)
    post = PostFactory(author=author)

    response = client_for(moderator).delete(post_url(post.id))

    assert response.status_code == 204
    post.refresh_from_db()
    assert post.deleted_by_id == moderator.id
    assert_error(api.get(post_url(post.id)), 404)


def test_other_user_cannot_delete_post(api, client_for, make_account):
    author, stranger = make_account(), make_account()
    post = PostFactory(author=author)

    response = client_for(stranger).delete(post_url(post.id))

    assert assert_error(response, 403) == "Only the author or staff can delete this post."
    post.refresh_from_db()
    assert post.deleted_at is None
    assert api.get(post_url(post.id)).status_code == 200


def test_follower_cannot_delete_post(client_for, make_account):
    author, follower = make_account(), make_account()
    follow_create(follower=follower, followee=author)
    post = PostFactory(author=author)

    assert_error(client_for(follower).delete(post_url(post.id)), 403)
    assert not Post.objects.filter(deleted_at__isnull=False).exists()


def test_anonymous_cannot_delete_post(api):
    post = PostFactory()

    assert_error(api.delete(post_url(post.id)), 401)
    post.refresh_from_db()
    assert post.deleted_at is None


def test_delete_unknown_post_is_404(client_for):
    post = PostFactory()

    assert_error(client_for(post.author).delete(post_url(post.id + 1000)), 404)


def test_delete_twice_is_404_and_keeps_the_first_deletion(client_for, make_account):
    author = make_account()
    post = PostFactory(author=author)
    client = client_for(author)
    client.delete(post_url(post.id))
    post.refresh_from_db()
    first_deleted_at = post.deleted_at

    assert_error(client.delete(post_url(post.id)), 404)
    post.refresh_from_db()
    assert post.deleted_at == first_deleted_at


def test_after_delete_get_is_404(client_for, make_account):
    author = make_account()
    post = PostFactory(author=author)
    client = client_for(author)
    assert client.get(post_url(post.id)).status_code == 200

    assert client.delete(post_url(post.id)).status_code == 204

    assert_error(client.get(post_url(post.id)), 404)


def test_deleted_post_leaves_followers_feed_at_once(client_for, make_account, run_commit_hooks, redis_store):
    author, follower = make_account(), make_account()
    with run_commit_hooks():
        follow_create(follower=follower, followee=author)
    with run_commit_hooks():
        kept = PostFactory(author=author)
        doomed = PostFactory(author=author)
    follower_client = client_for(follower)
    assert feed_ids(follower_client) == [doomed.id, kept.id]
    cached = [int(x) for x in redis_store.client.lrange(timeline_key(follower.id), 0, -1)]
    assert doomed.id in cached  # really served from the Redis timeline

    assert client_for(author).delete(post_url(doomed.id)).status_code == 204

    assert feed_ids(follower_client) == [kept.id]
    assert feed_ids(client_for(author)) == [kept.id]


def test_deleted_post_leaves_feed_for_pull_mode_author(client_for, make_account, run_commit_hooks):
    author, follower = make_account(), make_account()
    with run_commit_hooks():
        follow_create(follower=follower, followee=author)
    call_command("feed_config", celebrity_threshold=1)
    author_client = client_for(author)
    with run_commit_hooks():
        post_id = author_client.post(POSTS_URL, {"body": "from the outbox"}, format="json").json()["id"]
    assert Post.objects.get(pk=post_id).delivery == Delivery.PULL
    follower_client = client_for(follower)
    assert feed_ids(follower_client) == [post_id]

    assert author_client.delete(post_url(post_id)).status_code == 204

    assert feed_ids(follower_client) == []


def test_deleted_post_leaves_authors_post_list(api, client_for, make_account):
    author = make_account()
    kept, doomed = PostFactory(author=author), PostFactory(author=author)

    client_for(author).delete(post_url(doomed.id))
    body = api.get(f"/api/accounts/{author.id}/posts/").json()

    assert [p["id"] for p in body["results"]] == [kept.id]


# -- GET /api/feed/ --------------------------------------------------------------------------


def test_feed_anonymous_is_401(api, db):
    response = api.get(FEED_URL)

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")


def test_feed_shows_own_and_followed_posts_newest_first(client_for, make_account, run_commit_hooks):
    viewer, followed, stranger = make_account(), make_account(), make_account()
    with run_commit_hooks():
        follow_create(follower=viewer, followee=followed)
        first = PostFactory(author=followed)
        PostFactory(author=stranger)
        second = PostFactory(author=viewer)

    response = client_for(viewer).get(FEED_URL)

    assert response.status_code == 200
    assert response.json()["next"] is None
    assert [p["id"] for p in response.json()["results"]] == [second.id, first.id]
