"""The Django admin as an operator uses it: staff only; moderation that reaches the feeds."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.forms.models import model_to_dict

from graph.services import block_create, follow_create, mute_create
from posts.models import Post
from ranking.models import RankingConfig
from tests.factories import PASSWORD, AccountFactory, PostFactory
from tests.helpers import feed_ids, timeline_raw
from timelines.keys import fanout_claim_key
from timelines.models import FeedConfig

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/",
    "/admin/timelines/feedconfig/1/change/",
    "/admin/ranking/rankingconfig/1/change/",
    "/admin/graph/account/",
    "/admin/posts/post/",
    "/admin/graph/follow/",
    "/admin/graph/block/",
    "/admin/graph/mute/",
]


@pytest.fixture(autouse=True)
def config_row() -> None:
    FeedConfig.load()  # the migrations' rows; tests that truncate tables may have removed them
    RankingConfig.load()


@pytest.fixture
def staff(client):
    account = AccountFactory(username="moderator", is_staff=True, is_superuser=True)
    assert client.login(username=account.username, password=PASSWORD)
    client.account = account
    return client


@pytest.fixture
def regular(client):
    account = AccountFactory()
    assert client.login(username=account.username, password=PASSWORD)
    return client


@pytest.fixture
def followed_post(run_commit_hooks, client_for):
    """A post in a follower's (already read, cached) feed."""
    author, follower = AccountFactory.create_batch(2)
    follow_create(follower=follower, followee=author)
    feed_ids(client_for(follower))  # the follower reads: timeline built and active
    with run_commit_hooks():
        post = PostFactory(author=author, body="something to moderate")
    reader = client_for(follower)
    assert feed_ids(reader) == [post.id]
    return post, reader


def act(client, action: str, posts: list[Post]):
    return client.post(
        "/admin/posts/post/", {"action": action, "_selected_action": [str(p.id) for p in posts]}
    )


@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_load_for_staff(staff, page):
    assert staff.get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_non_staff_are_sent_to_the_login_page(regular, page):
    response = regular.get(page)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_non_staff_cannot_run_moderation_actions(regular, followed_post):
    post, reader = followed_post
    response = act(regular, "soft_delete", [post])
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    post.refresh_from_db()
    assert post.deleted_at is None and feed_ids(reader) == [post.id]


def test_soft_delete_and_restore_reach_the_feeds_and_record_who_and_when(
    staff, followed_post, redis_store, run_commit_hooks
):
    post, reader = followed_post
    assert act(staff, "soft_delete", [post]).status_code == 302
    post.refresh_from_db()
    assert post.deleted_at is not None and post.deleted_by == staff.account
    assert feed_ids(reader) == []  # gone at once
    redis_store.client.flushdb()  # timelines rebuilt while it is deleted no longer hold it
    assert feed_ids(reader) == []

    with run_commit_hooks():
        assert act(staff, "restore", [post]).status_code == 302
    post.refresh_from_db()
    assert post.deleted_at is None and post.deleted_by is None
    assert post.restored_by == staff.account and post.restored_at is not None
    assert feed_ids(reader) == [post.id]  # back, pushed into the rebuilt timeline again
    history = list(
        LogEntry.objects.filter(object_id=str(post.id))
        .order_by("id")
        .values_list("user__username", "change_message")
    )
    assert history == [
        ("moderator", "Soft-deleted (hidden from feeds)."),
        ("moderator", "Restored (fanned out to feeds again)."),
    ]
    # Restoring a post that is not deleted changes nothing.
    with run_commit_hooks():
        act(staff, "restore", [post])
    assert LogEntry.objects.filter(object_id=str(post.id)).count() == 2


def test_restored_pull_mode_post_reappears_from_the_outbox(staff, run_commit_hooks, client_for):
    celebrity, fan = AccountFactory.create_batch(2)
    follow_create(follower=fan, followee=celebrity)
    celebrity.fanout_override = "pull"
    celebrity.save(update_fields=["fanout_override"])
    with run_commit_hooks():
        post = PostFactory(author=celebrity)
    assert post.delivery == "pull" and feed_ids(client_for(fan)) == [post.id]
    act(staff, "soft_delete", [post])
    assert feed_ids(client_for(fan)) == []
    with run_commit_hooks():
        act(staff, "restore", [post])
    assert feed_ids(client_for(fan)) == [post.id]


def test_posts_search_and_filters(staff):
    alice, bob = AccountFactory(username="alice"), AccountFactory(username="bob")
    kept = PostFactory(author=alice, body="hello from alice")
    gone = PostFactory(author=bob, body="hello from bob")
    act(staff, "soft_delete", [gone])

    def listed(query: str) -> set[int]:
        response = staff.get(f"/admin/posts/post/{query}")
        assert response.status_code == 200
        return {p.id for p in response.context["cl"].result_list}

    assert listed("?q=alice") == {kept.id}
    assert listed(f"?author={bob.id}") == {gone.id}
    assert listed("?deleted_at__isnull=True") == {kept.id}
    assert listed("?deleted_at__isnull=False") == {gone.id}
    today = kept.created_at
    assert listed(f"?created_at__year={today.year}&created_at__month={today.month}") == {kept.id, gone.id}
    assert listed("?created_at__year=2001") == set()
    page = staff.get("/admin/posts/post/").content.decode()
    assert f"?author={alice.id}" in page  # authors link to their filter


def test_accounts_show_counts_mode_and_activity_and_edges_are_read_only(staff, client_for):
    star, fan, troll = AccountFactory(username="star"), AccountFactory(username="fan"), AccountFactory()
    follow_create(follower=fan, followee=star)
    mute_create(muter=fan, muted=troll)
    block_create(blocker=star, blocked=troll)
    feed_ids(client_for(fan))
    page = staff.get("/admin/graph/account/?q=fan").content.decode()
    assert "fan" in page and "star" not in page.split("result_list")[1]
    row = staff.get("/admin/graph/account/?q=fan").context["cl"].result_list[0]
    assert row.last_feed_read_at is not None
    detail = staff.get(f"/admin/graph/account/{star.id}/change/").content.decode()
    assert "fan-out mode" in detail.lower() and "push" in detail
    for model, query in (("follow", "star"), ("block", "star"), ("mute", "fan")):
        response = staff.get(f"/admin/graph/{model}/?q={query}")
        assert len(response.context["cl"].result_list) == 1
        assert staff.get(f"/admin/graph/{model}/add/").status_code == 403


def test_feed_config_page_has_every_knob_with_help_and_applies_at_once(staff):
    page = staff.get("/admin/timelines/feedconfig/1/change/").content.decode()
    for name in ("inactive_days", "celebrity_demote_percent", "outbox_cache_ms", "rebuild_wait_ms"):
        assert f'name="{name}"' in page
        assert FeedConfig._meta.get_field(name).help_text[:40] in page
    assert "Feed lifecycle" in page
    form = {**model_to_dict(FeedConfig.load(), exclude=["id"]), "inactive_days": 2}
    assert staff.post("/admin/timelines/feedconfig/1/change/", form).status_code == 302
    assert FeedConfig.cached().inactive_days == 2


def test_restoring_a_post_still_in_timelines_does_not_double_it(
    staff, followed_post, redis_store, run_commit_hooks
):
    post, reader = followed_post
    follower_id = post.author.follower_edges.get().follower_id
    act(staff, "soft_delete", [post])
    # Long after its fan-out: the claims on it and on its chunks have expired.
    claims = list(redis_store.client.scan_iter(match=fanout_claim_key(post_id=post.id) + "*"))
    assert claims and redis_store.client.delete(*claims) == len(claims)
    with run_commit_hooks():
        act(staff, "restore", [post])
    assert timeline_raw(redis_store, follower_id).count(post.id) == 1
    assert feed_ids(reader) == [post.id]
