"""Shares are reposts: fanned out like posts (push or pull by the sharer's mode), shown once per
feed across pages, hidden with their original, on the real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from graph.services import block_create, follow_create, mute_create
from posts.models import Delivery, Post
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory
from tests.helpers import assert_error, outbox_raw, timeline_raw

pytestmark = pytest.mark.django_db


def share(client_for, account, post_id: int):
    return client_for(account).post(f"/api/posts/{post_id}/share/")


def feed_entries(client, limit: int) -> list[tuple[int, int]]:
    """(entry id, original id) for every entry of the feed, walking all pages."""
    entries, url = [], f"/api/feed/?limit={limit}"
    while url:
        page = client.get(url).json()
        for item in page["results"]:
            original = item["repost_of"]["id"] if item["repost_of"] else item["id"]
            entries.append((item["id"], original))
        url = page["next"]
    return entries


@pytest.fixture
def world(run_commit_hooks, client_for, warm_timelines):
    """A reader following an author and three sharers; the third sharer is in pull mode."""
    reader, author, s1, s2, s3 = AccountFactory.create_batch(5)
    call_command("feed_config", account=s3.id, mode="pull")
    with run_commit_hooks():
        for followee in (author, s1, s2, s3):
            follow_create(follower=reader, followee=followee)
    warm_timelines([reader.id, s1.id, s2.id])
    return {"reader": reader, "author": author, "sharers": [s1, s2, s3]}


@pytest.mark.also_cluster
def test_share_is_fanned_out_by_the_sharers_mode(world, run_commit_hooks, client_for, redis_store):
    s1, _, s3 = world["sharers"]
    original = PostFactory(author=world["author"])
    with run_commit_hooks():
        pushed = share(client_for, s1, original.id)
        pulled = share(client_for, s3, original.id)

    assert pushed.status_code == pulled.status_code == 201
    pushed_share, pulled_share = (
        Post.objects.get(id=pushed.json()["id"]),
        Post.objects.get(id=pulled.json()["id"]),
    )
    assert (pushed_share.delivery, pulled_share.delivery) == (Delivery.PUSH, Delivery.PULL)
    assert pushed_share.id in timeline_raw(redis_store, world["reader"].id)
    assert pulled_share.id in outbox_raw(redis_store, s3.id)
    body = pushed.json()
    assert (body["author"]["id"], body["body"], body["repost_of"]["id"]) == (s1.id, "", original.id)
    assert (body["repost_of"]["share_count"], pulled.json()["repost_of"]["share_count"]) == (1, 2)


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_a_post_shared_by_several_followees_is_shown_once_at_its_newest_entry(
    world, run_commit_hooks, client_for, limit
):
    author, (s1, s2, s3) = world["author"], world["sharers"]
    with run_commit_hooks():
        original = PostFactory(author=author)
        fillers = [PostFactory(author=author)]
        share(client_for, s1, original.id)
        fillers.append(PostFactory(author=s1))
        share(client_for, s2, original.id)
        fillers.append(PostFactory(author=s2))
        newest = share(client_for, s3, original.id).json()["id"]
        fillers.append(PostFactory(author=s3))
        other = PostFactory(author=s2)
        share(client_for, s1, other.id)  # a second shared post, its original older on the page

    entries = feed_entries(client_for(world["reader"]), limit)

    originals = [o for _, o in entries]
    assert len(originals) == len(set(originals))  # every original once, across pages
    shared_entry = [e for e, o in entries if o == original.id]
    assert shared_entry == [newest]
    assert [e for e, _ in entries] == sorted((e for e, _ in entries), reverse=True)
    assert {f.id for f in fillers} <= {e for e, _ in entries}


def test_unsharing_the_newest_entry_moves_the_post_to_the_next_one(world, run_commit_hooks, client_for):
    author, (s1, s2, _) = world["author"], world["sharers"]
    with run_commit_hooks():
        original = PostFactory(author=author)
        first = share(client_for, s1, original.id).json()["id"]
        share(client_for, s2, original.id)
    assert client_for(s2).delete(f"/api/posts/{original.id}/share/").status_code == 204
    original.refresh_from_db()
    assert original.share_count == 1

    assert feed_entries(client_for(world["reader"]), 1) == [(first, original.id)]


def test_deleting_the_original_hides_its_shares(world, run_commit_hooks, client_for):
    stranger = AccountFactory()
    with run_commit_hooks():
        original = PostFactory(author=stranger)
        share(client_for, world["sharers"][0], original.id)
        share(client_for, world["sharers"][2], original.id)
    client = client_for(world["reader"])
    assert len(feed_entries(client, 10)) == 1
    post_delete(post=original, actor=stranger)
    assert feed_entries(client, 10) == []


@pytest.mark.parametrize("relation", ["blocked_by_author", "blocks_author", "mutes_author"])
def test_share_of_a_blocked_or_muted_author_is_hidden(world, run_commit_hooks, client_for, relation):
    stranger, reader = AccountFactory(), world["reader"]
    with run_commit_hooks():
        original = PostFactory(author=stranger)
        share_id = share(client_for, world["sharers"][0], original.id).json()["id"]
    client = client_for(reader)
    assert feed_entries(client, 10) == [(share_id, original.id)]
    if relation == "blocked_by_author":
        block_create(blocker=stranger, blocked=reader)
    elif relation == "blocks_author":
        block_create(blocker=reader, blocked=stranger)
    else:
        mute_create(muter=reader, muted=stranger)
    assert feed_entries(client, 10) == []
    assert_error(client.get(f"/api/posts/{share_id}/"), 404)


def test_sharing_twice_is_idempotent_and_a_share_of_a_share_shares_the_original(world, client_for):
    s1, s2, _ = world["sharers"]
    original = PostFactory(author=world["author"])
    first = share(client_for, s1, original.id)
    again = share(client_for, s1, original.id)
    via_share = share(client_for, s2, first.json()["id"])

    assert (first.status_code, again.status_code, via_share.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert via_share.json()["repost_of"]["id"] == original.id
    original.refresh_from_db()
    assert original.share_count == 2
    # Deleting a share with DELETE /api/posts/{id}/ un-shares too.
    assert client_for(s1).delete(f"/api/posts/{first.json()['id']}/").status_code == 204
    original.refresh_from_db()
    assert original.share_count == 1
    assert share(client_for, s1, original.id).status_code == 201  # can share again


def test_feed_page_with_shares_costs_no_more_queries(
    world, run_commit_hooks, client_for, django_assert_num_queries, steady_config
):
    with run_commit_hooks():
        for _ in range(3):
            original = PostFactory(author=world["author"])
            share(client_for, world["sharers"][0], original.id)
    client = client_for(world["reader"])
    client.get("/api/feed/")
    # token + pull-mode followees + one query for the page: its posts, originals, liked_by_me
    # and the newest-entry-per-original rule
    with django_assert_num_queries(3):
        response = client.get("/api/feed/?mode=chronological")
    assert len(response.json()["results"]) == 3
