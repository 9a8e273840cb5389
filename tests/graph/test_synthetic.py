"""The power-law network generator (graph.synthetic) and the synthetic posts (posts.synthetic)."""

from __future__ import annotations

import statistics

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from graph.models import Account, FanoutMode, Follow
from graph.synthetic import accounts_generate, follows_add, network_generate, network_summary
from posts.models import Comment, Delivery, Like, Post
from posts.synthetic import PostingGroup, posts_generate

pytestmark = pytest.mark.django_db


def edges_by_index(network) -> set[tuple[int, int]]:
    index = {account_id: i for i, account_id in enumerate(network.account_ids)}
    pairs = Follow.objects.filter(follower_id__in=network.account_ids).values_list(
        "follower_id", "followee_id"
    )
    return {(index[a], index[b]) for a, b in pairs}


def schema(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
            " UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1, 2",
            [table, table],
        )
        return cursor.fetchall()


def test_network_is_heavy_tailed_with_exact_counts_and_schema_intact():
    before = schema("graph_follow"), schema("posts_post")
    network = network_generate(
        users=2000, seed=3, avg_follows=20, max_follows=400, max_follows_accounts=2, force_pull_top=1
    )
    assert schema("graph_follow") == before[0]  # bulk_load put back every index and constraint

    followers = sorted(network.followers_counts)
    following = network.following_counts
    assert network.follows == sum(following) == Follow.objects.count()
    assert 19 <= statistics.mean(following) <= 21
    assert following.count(400) >= 2 and max(following) == 400 and min(following) >= 1
    # Power law: the median account has a handful of followers, the top one hundreds.
    assert statistics.median(followers) <= 10
    assert followers[-1] >= 30 * max(1, statistics.median(followers))
    assert "2000 accounts" in network_summary(network)

    # Counts in the database are exact, for every account.
    actual_followers = dict(Follow.objects.values_list("followee_id").annotate(n=Count("id")))
    actual_following = dict(Follow.objects.values_list("follower_id").annotate(n=Count("id")))
    for account_id, stored_followers, stored_following in Account.objects.values_list(
        "id", "followers_count", "following_count"
    ):
        assert stored_followers == actual_followers.get(account_id, 0)
        assert stored_following == actual_following.get(account_id, 0)
    top_id, top_count = network.most_followed(1)[0]
    assert top_count == followers[-1]
    assert network.pull_forced_ids == [top_id]
    assert Account.objects.get(id=top_id).fanout_override == FanoutMode.PULL


def test_network_is_deterministic_for_a_seed():
    first = network_generate(users=300, seed=11, avg_follows=8, username_prefix="a")
    second = network_generate(users=300, seed=11, avg_follows=8, username_prefix="b")
    other = network_generate(users=300, seed=12, avg_follows=8, username_prefix="c")
    assert edges_by_index(first) == edges_by_index(second) != edges_by_index(other)
    assert not any(a == b for a, b in edges_by_index(first))


def test_network_refuses_bad_arguments_and_taken_names():
    network_generate(users=10, seed=1, avg_follows=2, username_prefix="x")
    with pytest.raises(ValueError, match="already exist"):
        network_generate(users=10, seed=1, username_prefix="x")
    for kwargs in (
        {"users": 1},
        {"users": 10, "avg_follows": 0},
        {"users": 10, "min_follows": 5, "max_follows": 2},
    ):
        with pytest.raises(ValueError):
            network_generate(seed=1, username_prefix="y", **kwargs)
    assert Account.objects.count() == 10


def test_posts_are_ordered_by_time_and_delivered_by_mode():
    network = network_generate(users=200, seed=5, avg_follows=10, force_pull_top=1)
    ids = posts_generate(author_ids=network.account_ids, seed=5, posts_per_user=4).ids
    assert ids == sorted(ids) and len(ids) == Post.objects.count()
    assert 2 <= len(ids) / 200 <= 6
    created = list(Post.objects.order_by("id").values_list("created_at", flat=True))
    assert created == sorted(created)
    (top_id,) = network.pull_forced_ids
    authors = set(Post.objects.values_list("author_id", flat=True))
    pull_authors = set(Post.objects.filter(delivery=Delivery.PULL).values_list("author_id", flat=True))
    assert pull_authors == ({top_id} if top_id in authors else set())
    assert set(Account.objects.filter(has_pull_posts=True).values_list("id", flat=True)) == pull_authors


def test_engagement_counts_are_exact_and_favour_popular_authors():
    network = network_generate(users=300, seed=9, avg_follows=15)
    result = posts_generate(
        author_ids=network.account_ids, seed=9, posts_per_user=3, likes_per_post=4, comments_per_post=1
    )
    assert result.likes == Like.objects.count() and result.comments == Comment.objects.count()
    assert 2 <= result.likes / len(result.ids) <= 6
    likes = dict(Like.objects.values_list("post_id").annotate(n=Count("id")))
    comments = dict(Comment.objects.values_list("post_id").annotate(n=Count("id")))
    for post_id, like_count, comment_count in Post.objects.values_list("id", "like_count", "comment_count"):
        assert (like_count, comment_count) == (likes.get(post_id, 0), comments.get(post_id, 0))
    # The top tenth of authors by followers collect more than a tenth of the likes.
    top = {account_id for account_id, _ in network.most_followed(30)}
    top_likes = Like.objects.filter(post__author_id__in=top).count()
    assert top_likes > 0.1 * result.likes


def test_long_tail_groups_keep_ids_in_time_order_and_their_windows():
    core = network_generate(users=100, seed=4, avg_follows=5).account_ids
    lately = accounts_generate(count=300, prefix="lately")
    quiet = accounts_generate(count=200, prefix="quiet")
    pull = accounts_generate(count=5, prefix="pull", fanout_override=FanoutMode.PULL)
    result = posts_generate(
        author_ids=core, seed=4, posts_per_user=2,
        groups=[PostingGroup(lately, 3), PostingGroup(quiet, 2, 30, 365), PostingGroup(pull, 10)],
    )  # fmt: skip
    rows = list(Post.objects.order_by("id").values_list("id", "author_id", "created_at", "delivery"))
    assert [r[0] for r in rows] == result.ids
    stamps = [r[2] for r in rows]
    assert stamps == sorted(stamps)  # ids in order of creation time, across groups
    now = timezone.now()
    ages = {}
    for _, author, created, _ in rows:
        ages.setdefault(author, []).append((now - created).total_seconds() / 86_400)
    assert all(30 <= age <= 365 for a in quiet for age in ages.get(a, []))
    assert all(age <= 30 for a in [*core, *lately] for age in ages.get(a, []))
    assert 2 * len(quiet) * 0.7 < sum(len(ages.get(a, [])) for a in quiet) < 2 * len(quiet) * 1.3
    assert {d for _, a, _, d in rows if a in set(pull)} == {Delivery.PULL}
    assert set(Account.objects.filter(has_pull_posts=True).values_list("id", flat=True)) >= set(pull) & set(
        ages
    )


def test_follows_add_writes_edges_and_both_counts():
    readers = accounts_generate(count=2, prefix="reader", active=True)
    authors = accounts_generate(count=3, prefix="author")
    assert follows_add({readers[0]: authors, readers[1]: authors[:1]}) == 4
    counts = dict(Account.objects.filter(id__in=readers + authors).values_list("id", "following_count"))
    assert [counts[r] for r in readers] == [3, 1]
    followers = dict(Account.objects.filter(id__in=authors).values_list("id", "followers_count"))
    assert [followers[a] for a in authors] == [2, 1, 1]
    assert Follow.objects.filter(follower_id=readers[0]).count() == 3
    assert Account.objects.filter(id__in=readers, last_feed_read_at__isnull=False).count() == 2
