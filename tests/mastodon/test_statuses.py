"""Statuses: post (form and JSON, Idempotency-Key), read, delete, favourite/reblog and undo,
replies as our comments and context, favourited_by / reblogged_by."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings

from feedsite.mastodon.models import StatusIdempotencyKey
from graph.models import Block
from posts.models import Comment, Like, Post
from posts.services import comment_create
from tests.factories import AccountFactory, PostFactory, token_for
from tests.mastodon.conftest import error_message

pytestmark = pytest.mark.django_db


def test_post_form_and_json(client_for):
    me = AccountFactory()
    client = client_for(me)
    form = client.post("/api/v1/statuses", {"status": "hi <there>\n\nsecond", "visibility": "public"})
    assert form.status_code == 200, form.content
    assert form.json()["content"] == "<p>hi &lt;there&gt;</p><p>second</p>"
    post = Post.objects.get(pk=form.json()["id"])
    assert post.body == "hi <there>\n\nsecond" and post.author == me  # plain text in our API
    json = client.post(
        "/api/v1/statuses/", {"status": "json", "media_ids": [], "sensitive": False}, format="json"
    )
    assert json.status_code == 200 and json.json()["content"] == "<p>json</p>"


@pytest.mark.parametrize(
    "data",
    [
        {"status": ""},
        {"status": "x" * 2001},
        {"status": "x", "media_ids[]": ["1"]},
        {"status": "x", "visibility": "direct"},
        {"status": "x", "spoiler_text": "cw"},
        {"status": "x", "sensitive": "maybe"},
        {"status": "a\x00b"},
    ],
)
def test_invalid_posts_are_422(client_for, data):
    error_message(client_for(AccountFactory()).post("/api/v1/statuses", data), 422)
    assert not Post.objects.exists()


def test_idempotency_key_returns_the_first_status(client_for):
    me, other = AccountFactory.create_batch(2)
    client = client_for(me)
    first = client.post("/api/v1/statuses", {"status": "once"}, HTTP_IDEMPOTENCY_KEY="k1").json()
    again = client.post("/api/v1/statuses", {"status": "once"}, HTTP_IDEMPOTENCY_KEY="k1").json()
    assert again["id"] == first["id"] and Post.objects.count() == 1
    assert (
        client.post("/api/v1/statuses", {"status": "once"}, HTTP_IDEMPOTENCY_KEY="k2").json()["id"]
        != first["id"]
    )
    # Another account's same key is its own.
    assert (
        client_for(other).post("/api/v1/statuses", {"status": "x"}, HTTP_IDEMPOTENCY_KEY="k1").json()["id"]
        != first["id"]
    )
    # After an hour the key may be used again.
    StatusIdempotencyKey.objects.filter(account=me).update(created_at="2000-01-01T00:00Z")
    assert (
        client.post("/api/v1/statuses", {"status": "once"}, HTTP_IDEMPOTENCY_KEY="k1").json()["id"]
        != first["id"]
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_post_once(live_server):
    import requests

    me = AccountFactory()
    headers = {"Authorization": f"Token {token_for(me)}", "Idempotency-Key": "race"}
    ids, barrier = [], threading.Barrier(4)

    def post():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/v1/statuses", data={"status": "x"}, headers=headers, timeout=30
        )
        ids.append(response.json()["id"])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()
    assert len(set(ids)) == 1 and Post.objects.filter(author=me).count() == 1


def test_get_and_delete(client_for):
    me, other = AccountFactory.create_batch(2)
    post = PostFactory(author=me, body="bye")
    error_message(client_for(other).delete(f"/api/v1/statuses/{post.id}"), 404)
    deleted = client_for(me).delete(f"/api/v1/statuses/{post.id}/")
    assert deleted.json()["text"] == "bye" and deleted.json()["id"] == str(post.id)
    post.refresh_from_db()
    assert post.deleted_at is not None
    error_message(client_for(me).get(f"/api/v1/statuses/{post.id}"), 404)
    for bad in ("abc", "c", "cx", "0", "c999999"):
        error_message(client_for(me).get(f"/api/v1/statuses/{bad}"), 404)


def test_blocked_viewer_gets_404(client_for):
    me, other = AccountFactory.create_batch(2)
    post = PostFactory(author=other)
    Block.objects.create(blocker=other, blocked=me)
    error_message(client_for(me).get(f"/api/v1/statuses/{post.id}"), 404)
    error_message(client_for(me).post(f"/api/v1/statuses/{post.id}/favourite"), 404)


def test_favourite_and_reblog_and_their_undo(client_for):
    me, other = AccountFactory.create_batch(2)
    post = PostFactory(author=other)
    client = client_for(me)
    fav = client.post(f"/api/v1/statuses/{post.id}/favourite").json()
    assert fav["favourited"] is True and fav["favourites_count"] == 1
    assert Like.objects.filter(user=me, post=post).exists()
    assert client.post(f"/api/v1/statuses/{post.id}/favourite/").json()["favourites_count"] == 1
    wrapper = client.post(f"/api/v1/statuses/{post.id}/reblog").json()
    share = Post.objects.get(author=me, repost_of=post)
    assert wrapper["id"] == str(share.id) and wrapper["reblog"]["id"] == str(post.id)
    assert wrapper["reblogged"] is True and wrapper["reblog"]["reblogs_count"] == 1
    assert wrapper["reblog"]["favourited"] is True
    # Favouriting the wrapper favourites the original.
    assert client.post(f"/api/v1/statuses/{share.id}/unfavourite").json()["id"] == str(post.id)
    assert not Like.objects.filter(user=me).exists()
    undone = client.post(f"/api/v1/statuses/{post.id}/unreblog").json()
    assert undone["id"] == str(post.id) and undone["reblogged"] is False and undone["reblogs_count"] == 0
    share.refresh_from_db()
    assert share.deleted_at is not None
    liker = AccountFactory()
    client_for(liker).post(f"/api/v1/statuses/{post.id}/favourite")
    client_for(liker).post(f"/api/v1/statuses/{post.id}/reblog")
    assert [a["id"] for a in client.get(f"/api/v1/statuses/{post.id}/favourited_by").json()] == [
        str(liker.id)
    ]
    assert [a["id"] for a in client.get(f"/api/v1/statuses/{post.id}/reblogged_by/").json()] == [
        str(liker.id)
    ]


def test_replies_are_comments_both_ways(client_for):
    me, other = AccountFactory.create_batch(2)
    post = PostFactory(author=other)
    client = client_for(me)
    reply = client.post("/api/v1/statuses", {"status": "a reply", "in_reply_to_id": str(post.id)}).json()
    assert reply["in_reply_to_id"] == str(post.id) and reply["in_reply_to_account_id"] == str(other.id)
    comment = Comment.objects.get(post=post)
    assert comment.body == "a reply" and reply["id"] == f"c{comment.id}"
    # Our API shows it as a comment.
    ours = client.get(f"/api/posts/{post.id}/comments/").json()["results"]
    assert [c["body"] for c in ours] == ["a reply"]
    # A comment made in our API is a descendant in Mastodon's context.
    theirs = comment_create(author=other, post=post, body="ours")
    context = client.get(f"/api/v1/statuses/{post.id}/context").json()
    assert context["ancestors"] == []
    assert [s["id"] for s in context["descendants"]] == [reply["id"], f"c{theirs.id}"]
    assert client.get(f"/api/v1/statuses/{post.id}").json()["replies_count"] == 2
    # A comment's context: its post is the ancestor. Replying to a comment joins its post.
    assert client.get(f"/api/v1/statuses/{reply['id']}/context").json()["ancestors"][0]["id"] == str(post.id)
    again = client.post("/api/v1/statuses", {"status": "re", "in_reply_to_id": reply["id"]}).json()
    assert again["in_reply_to_id"] == str(post.id)
    assert client.get(f"/api/v1/statuses/{reply['id']}").json()["content"] == "<p>a reply</p>"
    error_message(client.post(f"/api/v1/statuses/{reply['id']}/favourite"), 422)
    deleted = client.delete(f"/api/v1/statuses/{reply['id']}").json()
    assert deleted["text"] == "a reply" and not Comment.objects.filter(pk=comment.pk).exists()
    error_message(client.post("/api/v1/statuses", {"status": "x", "in_reply_to_id": "99999999"}), 404)


def test_posting_and_following_share_our_apis_rate_limits(client_for):
    me = AccountFactory()
    client = client_for(me)
    targets = AccountFactory.create_batch(3)
    rates = {"post": "2/minute", "follow": "2/minute"}
    with override_settings(FEED_THROTTLES=True, FEED_THROTTLE_RATES=rates):
        assert client.post("/api/posts/", {"body": "ours"}, format="json").status_code == 201
        assert client.post("/api/v1/statuses", {"status": "theirs"}).status_code == 200
        error_message(client.post("/api/v1/statuses", {"status": "third"}), 429)
        for target in targets[:2]:
            assert client.post(f"/api/v1/accounts/{target.id}/follow").status_code == 200
        error_message(client.post(f"/api/v1/accounts/{targets[2].id}/follow"), 429)
    assert Post.objects.filter(author=me).count() == 2
