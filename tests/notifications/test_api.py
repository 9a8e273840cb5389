"""Our notifications API over real PostgreSQL, Redis and the eager Celery task: each kind,
the rules (own actions, blocks, mutes, undo, deleted posts, rollback), filters, paging,
dismiss, clear and the unread count."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from feedsite.notifications.models import Notification
from posts.services import like_create
from tests.factories import PostFactory
from tests.helpers import assert_error
from timelines.keys import reader_channel, stream_marker_key

URL = "/api/notifications/"


def kinds(client, **params) -> list[tuple[str, str]]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [(item["type"], item["account"]["username"]) for item in response.json()["results"]]


def test_each_kind_reaches_the_author(people, hooked, client_for):
    alice, bob, carol = people
    post = PostFactory(author=alice, body="hello")
    assert hooked(bob, "post", f"/api/accounts/{alice.id}/follow/").status_code == 201
    assert hooked(bob, "post", f"/api/posts/{post.id}/like/").status_code == 201
    assert hooked(carol, "post", f"/api/posts/{post.id}/share/").status_code == 201
    assert hooked(carol, "post", f"/api/posts/{post.id}/comments/", {"body": "nice"}).status_code == 201
    assert hooked(bob, "post", "/api/posts/", {"body": "hi @Alice and @nobody"}).status_code == 201
    reply = hooked(bob, "post", f"/api/posts/{post.id}/comments/", {"body": "and @carol too"})
    assert reply.status_code == 201
    assert kinds(client_for(alice)) == [
        ("reply", "bob"),
        ("mention", "bob"),
        ("reply", "carol"),
        ("reblog", "carol"),
        ("favourite", "bob"),
        ("follow", "bob"),
    ]
    # carol is mentioned in bob's comment on alice's post
    assert kinds(client_for(carol)) == [("mention", "bob")]
    item = client_for(alice).get(URL).json()["results"][0]
    assert item["post"]["id"] == post.id and item["comment"]["body"] == "and @carol too"


def test_own_actions_notify_no_one(people, hooked, client_for):
    alice, _, _ = people
    post = PostFactory(author=alice)
    hooked(alice, "post", f"/api/posts/{post.id}/like/")
    hooked(alice, "post", f"/api/posts/{post.id}/comments/", {"body": "me, @alice"})
    hooked(alice, "post", "/api/posts/", {"body": "@alice"})
    assert kinds(client_for(alice)) == []


def test_muted_and_blocked_accounts_notify_no_one(people, hooked, client_for):
    alice, bob, carol = people
    post = PostFactory(author=alice)
    hooked(alice, "post", f"/api/accounts/{bob.id}/mute/")
    hooked(bob, "post", f"/api/posts/{post.id}/like/")
    hooked(bob, "post", f"/api/accounts/{alice.id}/follow/")
    hooked(carol, "post", f"/api/posts/{post.id}/like/")
    assert kinds(client_for(alice)) == [("favourite", "carol")]
    # a block afterwards, either way, takes the existing ones away
    hooked(carol, "post", f"/api/accounts/{alice.id}/block/")
    assert kinds(client_for(alice)) == []


def test_undo_and_delete_take_notifications_away(people, hooked, client_for):
    alice, bob, carol = people
    post, other = PostFactory(author=alice), PostFactory(author=alice)
    hooked(bob, "post", f"/api/posts/{post.id}/like/")
    hooked(bob, "post", f"/api/accounts/{alice.id}/follow/")
    hooked(carol, "post", f"/api/posts/{post.id}/share/")
    comment = hooked(carol, "post", f"/api/posts/{other.id}/comments/", {"body": "x"}).json()
    hooked(carol, "post", f"/api/posts/{other.id}/like/")
    assert len(kinds(client_for(alice))) == 5
    hooked(bob, "delete", f"/api/posts/{post.id}/like/")
    hooked(bob, "delete", f"/api/accounts/{alice.id}/follow/")
    hooked(carol, "delete", f"/api/posts/{post.id}/share/")
    hooked(carol, "delete", f"/api/posts/{other.id}/comments/{comment['id']}/")
    assert kinds(client_for(alice)) == [("favourite", "carol")]
    hooked(alice, "delete", f"/api/posts/{other.id}/")
    assert kinds(client_for(alice)) == []
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_like_notifies_no_one(people, client_for):
    alice, bob, _ = people
    post = PostFactory(author=alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        like_create(user=bob, post=post)
        raise RuntimeError("rolled back")
    like_create(user=bob, post=post)  # committed: the eager task runs at commit
    assert kinds(client_for(alice)) == [("favourite", "bob")]


def test_switched_off_creates_none(people, hooked, client_for, settings):
    alice, bob, _ = people
    settings.NOTIFICATIONS = False
    hooked(bob, "post", f"/api/posts/{PostFactory(author=alice).id}/like/")
    assert kinds(client_for(alice)) == []


def test_filters_paging_dismiss_clear(people, hooked, client_for):
    alice, bob, carol = people
    posts = [PostFactory(author=alice) for _ in range(3)]
    for post in posts:
        hooked(bob, "post", f"/api/posts/{post.id}/like/")
    hooked(carol, "post", f"/api/accounts/{alice.id}/follow/")
    client = client_for(alice)
    assert kinds(client, types="follow") == [("follow", "carol")]
    assert kinds(client, exclude_types="follow,reply") == [("favourite", "bob")] * 3
    assert_error(client.get(URL, {"types": "poll"}), 400, "types")
    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()
    ids = [n["id"] for n in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4 and second["next"] is None
    assert client.post(f"{URL}{ids[0]}/dismiss/").status_code == 204
    assert client.post(f"{URL}{ids[0]}/dismiss/").status_code == 404
    assert client_for(bob).post(f"{URL}{ids[1]}/dismiss/").status_code == 404  # not bob's
    assert len(kinds(client)) == 3
    assert client.post(f"{URL}clear/").status_code == 204
    assert kinds(client) == []


def test_unread_count_follows_the_read_marker(people, hooked, client_for):
    alice, bob, _ = people
    posts = [PostFactory(author=alice) for _ in range(3)]
    for post in posts:
        hooked(bob, "post", f"/api/posts/{post.id}/like/")
    client = client_for(alice)
    assert client.get(f"{URL}unread_count/").json() == {"count": 3, "last_read_id": None}
    newest = client.get(URL).json()["results"]
    read = client.post(f"{URL}read/", {"last_read_id": newest[1]["id"]}, format="json")
    assert read.json() == {"count": 1, "last_read_id": newest[1]["id"]}
    assert client.get(f"{URL}unread_count/").json()["count"] == 1
    assert_error(client.post(f"{URL}read/", {"last_read_id": "x"}, format="json"), 400, "last_read_id")
    # the same marker as Mastodon's
    marker = client.get("/api/v1/markers", {"timeline[]": "notifications"}).json()
    assert marker["notifications"]["last_read_id"] == str(newest[1]["id"])


def test_a_notification_is_published_to_an_open_stream(people, hooked, redis_store):
    alice, bob, _ = people
    client = redis_store.client
    client.set(stream_marker_key(alice.id), 1, ex=60)
    pubsub = client.pubsub()
    pubsub.subscribe(reader_channel(alice.id))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    hooked(bob, "post", f"/api/posts/{PostFactory(author=alice).id}/like/")
    message = pubsub.get_message(timeout=5)
    notification = Notification.objects.get()
    assert json.loads(message["data"]) == {"e": "notification", "id": notification.id}
    # without an open stream, nothing is published
    client.delete(stream_marker_key(alice.id))
    hooked(bob, "post", f"/api/posts/{PostFactory(author=alice).id}/like/")
    assert pubsub.get_message(timeout=0.5) is None
    pubsub.close()
