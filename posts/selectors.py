"""Reads of posts and their engagement, shared by the post, account and feed endpoints."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from graph.models import Account, Block
from graph.selectors import not_blocked_or_muted
from posts.models import Comment, Like, Post


def shown_originals(*, viewer_id: int | None) -> Q:
    """Posts whose original (for a share) may be shown: not deleted, and for a signed-in
    viewer not by an account that blocked them, they blocked, or they muted. Always true for
    a post that is not a share."""
    original_ok = Q(repost_of__deleted_at__isnull=True)
    if viewer_id is not None:
        original_ok &= not_blocked_or_muted(viewer_id=viewer_id, author=OuterRef("repost_of__author_id"))
    return Q(repost_of__isnull=True) | original_ok


def post_queryset(*, viewer: Account | None) -> QuerySet[Post]:
    """Posts one may open or list outside the feed: not deleted, not by an account that
    blocked the viewer, and for a share, its original still shown (see shown_originals)."""
    qs = Post.objects.filter(deleted_at__isnull=True).select_related("author", "repost_of__author")
    if viewer is None or not viewer.is_authenticated:
        return qs.filter(shown_originals(viewer_id=None))
    blocked_me = Block.objects.filter(blocker_id=OuterRef("author_id"), blocked_id=viewer.pk)
    return qs.filter(~Q(Exists(blocked_me))).filter(shown_originals(viewer_id=viewer.pk))


def liked_post_ids(*, viewer: Account | None, posts: Iterable[Post]) -> set[int]:
    """Which of the posts (and of the originals of shares among them) the viewer liked: one
    index-only query for a whole page, so ``liked_by_me`` never costs a query per post."""
    if viewer is None or not viewer.is_authenticated:
        return set()
    ids = set()
    for post in posts:
        ids.add(post.pk)
        if post.repost_of_id is not None:
            ids.add(post.repost_of_id)
    if not ids:
        return set()
    return set(Like.objects.filter(user_id=viewer.pk, post_id__in=ids).values_list("post_id", flat=True))


def comment_queryset(*, post: Post, viewer: Account | None) -> QuerySet[Comment]:
    """A post's comments, minus (for a signed-in viewer) those by accounts the viewer blocked,
    muted, or was blocked by: blocked people never see each other's comments."""
    qs = Comment.objects.filter(post=post).select_related("author")
    if viewer is None or not viewer.is_authenticated:
        return qs
    return qs.filter(not_blocked_or_muted(viewer_id=viewer.pk, author=OuterRef("author_id")))
