"""Mastodon's notifications over the API: /api/v1/notifications (types, window, Link header,
one, dismiss, clear), grouped /api/v2/notifications (one group per post's likes, counts and
samples from SQL, constant queries), Status mentions, and Mastodon.py 2.3.3's notifications()
and grouped_notifications() against a real gunicorn."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedsite.notifications.models import Notification, NotificationGroup
from feedsite.notifications.services import notification_dismiss
from graph.services import block_create, follow_create
from posts.services import comment_create, like_create, like_delete
from tests.factories import AccountFactory, PostFactory
from tests.mastodon.conftest import error_message, links
from tests.support.http import gunicorn
from tests.support.procs import suite_env

V1, V2 = "/api/v1/notifications", "/api/v2/notifications"


@pytest.fixture
def liked(people, run_commit_hooks):
    """Five likes of alice's first post, two of her second, a follow and a reply."""
    alice, bob, carol = people
    first, second = PostFactory(author=alice, body="hi @bob"), PostFactory(author=alice)
    fans = AccountFactory.create_batch(5)
    with run_commit_hooks():
        for fan in fans:
            like_create(user=fan, post=first)
        like_create(user=bob, post=second)
        like_create(user=carol, post=second)
        comment_create(author=carol, post=second, body="a reply")
        follow_create(follower=bob, followee=alice)
    return alice, first, second, fans


def test_v1_types_window_and_link(liked, client_for):
    alice, first, _, _ = liked
    client = client_for(alice)
    every = client.get(V1).json()
    assert [n["type"] for n in every] == ["follow", "mention", "favourite", "favourite", *["favourite"] * 5]
    assert every[1]["status"]["in_reply_to_id"] == str(liked[2].id)  # a reply is a mention
    assert every[-1]["status"]["id"] == str(first.id) and every[-1]["account"]["username"]
    assert [n["type"] for n in client.get(V1, {"types[]": ["follow", "mention"]}).json()] == [
        "follow",
        "mention",
    ]
    assert client.get(V1, {"types[]": "poll"}).json() == []
    assert {n["type"] for n in client.get(V1, {"exclude_types[]": "favourite"}).json()} == {
        "follow",
        "mention",
    }
    page = client.get(V1, {"limit": 5})
    older = client.get(links(page)["next"]).json()
    assert [n["id"] for n in page.json() + older] == [n["id"] for n in every]
    newer = client.get(V1, {"min_id": every[3]["id"]}).json()
    assert [n["id"] for n in newer] == [n["id"] for n in every[:3]]
    error_message(client.get(V1, {"max_id": "x"}), 422)


def test_v1_one_dismiss_clear(liked, client_for):
    alice = liked[0]
    client, stranger = client_for(alice), client_for(AccountFactory())
    newest = client.get(V1).json()[0]
    assert client.get(f"{V1}/{newest['id']}").json()["id"] == newest["id"]
    error_message(stranger.get(f"{V1}/{newest['id']}"), 404)
    error_message(client.get(f"{V1}/nope"), 404)
    error_message(stranger.post(f"{V1}/{newest['id']}/dismiss"), 404)
    assert client.post(f"{V1}/{newest['id']}/dismiss").json() == {}
    error_message(client.get(f"{V1}/{newest['id']}"), 404)
    assert client.post(f"{V1}/clear").json() == {}
    assert client.get(V1).json() == [] and not NotificationGroup.objects.filter(recipient=alice).exists()


def test_v2_groups_likes_of_a_post(liked, client_for):
    alice, first, second, fans = liked
    body = client_for(alice).get(V2).json()
    groups = body["notification_groups"]
    assert [(g["type"], g["notifications_count"]) for g in groups] == [
        ("follow", 1),
        ("mention", 1),
        ("favourite", 2),
        ("favourite", 5),
    ]
    five = groups[-1]
    assert five["group_key"] == f"favourite-{first.id}" and five["status_id"] == str(first.id)
    assert five["sample_account_ids"] == [str(fan.id) for fan in reversed(fans)]
    assert five["most_recent_notification_id"] == five["page_max_id"]
    assert {a["id"] for a in body["accounts"]} >= set(five["sample_account_ids"])
    assert {s["id"] for s in body["statuses"]} >= {str(first.id), str(second.id)}
    # the mention of bob in alice's post fills the Status entity's mentions
    status = next(s for s in body["statuses"] if s["id"] == str(first.id))
    assert [m["username"] for m in status["mentions"]] == ["bob"]
    page = client_for(alice).get(V2, {"limit": 2})
    rest = client_for(alice).get(links(page)["next"]).json()["notification_groups"]
    assert [g["group_key"] for g in page.json()["notification_groups"] + rest] == [
        g["group_key"] for g in groups
    ]
    assert [
        g["type"] for g in client_for(alice).get(V2, {"types[]": "favourite"}).json()["notification_groups"]
    ] == [
        "favourite",
        "favourite",
    ]


def test_v2_page_queries_do_not_grow_with_groups_or_their_size(people, run_commit_hooks, client_for):
    alice = people[0]
    client = client_for(alice)

    def queries() -> int:
        client.get(V2)  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(V2).status_code == 200
        return len(captured)

    with run_commit_hooks():
        like_create(user=AccountFactory(), post=PostFactory(author=alice))
    few = queries()
    with run_commit_hooks():
        for post in [PostFactory(author=alice) for _ in range(4)]:
            for fan in AccountFactory.create_batch(6):
                like_create(user=fan, post=post)
    assert queries() == few


def test_group_counts_match_a_recount(people, run_commit_hooks):
    """Oracle for the hand-written group statements: after likes, undos, dismissals and a
    block, every group's count and most recent id are what counting the rows says."""
    alice, bob, _ = people
    posts = [PostFactory(author=alice) for _ in range(3)]
    fans = AccountFactory.create_batch(6)
    with run_commit_hooks():
        for i, fan in enumerate(fans):
            for post in posts[: 1 + i % 3]:
                like_create(user=fan, post=post)
        like_create(user=bob, post=posts[0])
    with run_commit_hooks():
        like_delete(user=fans[0], post=posts[0])
        like_delete(user=fans[4], post=posts[1])
        notification_dismiss(recipient=alice, notification_id=Notification.objects.order_by("id")[3].id)
        block_create(blocker=alice, blocked=fans[2])
    rows = Notification.objects.values_list("recipient_id", "group_key", "id")
    expected_counts = Counter((r, k) for r, k, _ in rows)
    expected_recent = {}
    for r, k, pk in rows:
        expected_recent[(r, k)] = max(pk, expected_recent.get((r, k), 0))
    groups = {(g.recipient_id, g.group_key): g for g in NotificationGroup.objects.all()}
    assert set(groups) == set(expected_counts)
    for key, group in groups.items():
        assert (group.notifications_count, group.most_recent_id) == (
            expected_counts[key],
            expected_recent[key],
        )


def test_scopes_and_anonymous(api, people, client_for):
    for url in (V1, V2, f"{V1}/1"):
        error_message(api.get(url), 401)
    error_message(api.post(f"{V1}/clear"), 401)


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_mastodon_py_notifications_and_grouped_notifications(people):
    from tests.mastodon.test_clients import mastodon_login

    alice = people[0]
    post = PostFactory(author=alice)
    env = suite_env(FEED_THROTTLES="off")
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    with gunicorn(env) as base:
        me, b, c = (mastodon_login(base, account) for account in people)
        b.status_favourite(str(post.id))
        c.status_favourite(str(post.id))
        c.account_follow(str(alice.id))
        b.status_post("hello @alice", in_reply_to_id=None)
        flat = me.notifications()
        assert [n.type for n in flat] == ["mention", "follow", "favourite", "favourite"]
        assert [n.type for n in me.notifications(types=["follow"])] == ["follow"]
        grouped = me.grouped_notifications()
        likes = next(g for g in grouped.notification_groups if g.type == "favourite")
        assert likes.notifications_count == 2 and len(likes.sample_account_ids) == 2
        me.notifications_dismiss(flat[0].id)
        assert [n.type for n in me.notifications()] == ["follow", "favourite", "favourite"]
        me.notifications_clear()
        assert me.notifications() == []
