"""Reads for the Mastodon API that our apps' selectors do not already answer, each a constant
number of queries for a whole page: accounts with their counts, the viewer's shares, the
relationships between the viewer and a set of accounts, and Status ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Q
from rest_framework.exceptions import NotFound

from feedsite.mastodon.entities import COMMENT_PREFIX, AccountRow, relationship_entity
from graph.models import Account, Block, Follow, Mute
from posts.models import Post
from posts.selectors import liked_post_ids
from timelines.public import FeedPost

MAX_ID = 2**63 - 1
_ACCOUNT_ROWS_SQL = """
SELECT a.id, a.username, a.date_joined, a.followers_count, a.following_count,
       (SELECT count(*) FROM posts_post p WHERE p.author_id = a.id AND p.deleted_at IS NULL),
       (SELECT p.created_at FROM posts_post p WHERE p.author_id = a.id AND p.deleted_at IS NULL
        ORDER BY p.id DESC LIMIT 1)
FROM graph_account a
WHERE a.id = ANY(%(ids)s::bigint[])
"""
_REBLOGGED_SQL = """
SELECT repost_of_id FROM posts_post
WHERE repost_of_id = ANY(%(ids)s::bigint[]) AND author_id = %(viewer)s AND deleted_at IS NULL
"""


def account_rows(*, account_ids: Iterable[int]) -> dict[int, AccountRow]:
    """Accounts with their counts (followers, following, undeleted statuses): one query."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_ROWS_SQL, {"ids": ids})
        return {row[0]: AccountRow(*row) for row in cursor.fetchall()}


def reblogged_ids(*, viewer_id: int | None, original_ids: Iterable[int]) -> set[int]:
    """Which of the posts the viewer has a live share of: one query (post_one_share_per_author)."""
    ids = sorted(set(original_ids))
    if viewer_id is None or not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_REBLOGGED_SQL, {"ids": ids, "viewer": viewer_id})
        return {row[0] for row in cursor.fetchall()}


def _feed_post(post: Post, liked: set[int]) -> FeedPost:
    original = None if post.repost_of is None else _feed_post(post.repost_of, liked)
    return FeedPost(
        id=post.id,
        author_id=post.author_id,
        author_username=post.author.username,
        body=post.body,
        media_urls=post.media_urls,
        created_at=post.created_at,
        delivery=post.delivery,
        like_count=post.like_count,
        comment_count=post.comment_count,
        share_count=post.share_count,
        liked_by_me=post.id in liked,
        repost_of_id=post.repost_of_id,
        repost_of=original,
    )


def feed_posts_from_models(*, viewer: Account | None, posts: Sequence[Post]) -> list[FeedPost]:
    """Posts loaded outside the feed (with ``author`` and ``repost_of__author``, as
    posts.selectors.post_queryset loads them) as FeedPost values: one query for the likes."""
    liked = liked_post_ids(viewer=viewer, posts=posts)
    return [_feed_post(post, liked) for post in posts]


def status_ref(raw: str) -> tuple[str, int]:
    """("post", id) or ("comment", id) for a Status id; 404 for anything else."""
    kind, digits = (
        ("comment", raw[len(COMMENT_PREFIX) :]) if raw.startswith(COMMENT_PREFIX) else ("post", raw)
    )
    if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= MAX_ID:
        raise NotFound("Record not found")
    return kind, int(digits)


def account_pk(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise NotFound("Record not found")
    return int(raw)


def active_account(raw: str) -> Account:
    account = Account.objects.filter(pk=account_pk(raw), is_active=True).first()
    if account is None:
        raise NotFound("Record not found")
    return account


def relationships(*, viewer_id: int, account_ids: Sequence[int]) -> list[dict]:
    """The viewer's relationship with each account, in the order asked: four queries."""
    ids = list(dict.fromkeys(account_ids))
    following = set(
        Follow.objects.filter(follower_id=viewer_id, followee_id__in=ids).values_list(
            "followee_id", flat=True
        )
    )
    followed_by = set(
        Follow.objects.filter(followee_id=viewer_id, follower_id__in=ids).values_list(
            "follower_id", flat=True
        )
    )
    blocks = Block.objects.filter(
        Q(blocker_id=viewer_id, blocked_id__in=ids) | Q(blocked_id=viewer_id, blocker_id__in=ids)
    ).values_list("blocker_id", "blocked_id")
    blocking = {blocked for blocker, blocked in blocks if blocker == viewer_id}
    blocked_by = {blocker for blocker, blocked in blocks if blocked == viewer_id}
    muting = set(Mute.objects.filter(muter_id=viewer_id, muted_id__in=ids).values_list("muted_id", flat=True))
    return [
        relationship_entity(
            account,
            following=account in following,
            followed_by=account in followed_by,
            blocking=account in blocking,
            blocked_by=account in blocked_by,
            muting=account in muting,
        )
        for account in ids
    ]
