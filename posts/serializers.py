from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.validators import URLValidator
from rest_framework import serializers

from posts.models import (
    BODY_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    MEDIA_URL_MAX_LENGTH,
    MEDIA_URLS_MAX,
    Comment,
    Post,
)

if TYPE_CHECKING:
    from timelines.public import FeedPost


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class OriginalPostSerializer(serializers.ModelSerializer):
    """A post with its counts. ``liked_by_me`` reads the ``liked_ids`` set in the context
    (posts.selectors.liked_post_ids, one query per page); without it, it is false."""

    author = AuthorSerializer(read_only=True)
    liked_by_me = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id",
            "author",
            "body",
            "media_urls",
            "created_at",
            "like_count",
            "comment_count",
            "share_count",
            "liked_by_me",
        ]
        read_only_fields = fields

    def get_liked_by_me(self, post: Post) -> bool:
        return post.pk in self.context.get("liked_ids", ())


class PostSerializer(OriginalPostSerializer):
    """A post, or a share: then ``repost_of`` is the original post, and the share's own body is
    empty and its counts stay 0 (likes, comments and shares of a share go to the original)."""

    repost_of = OriginalPostSerializer(read_only=True, allow_null=True)

    class Meta(OriginalPostSerializer.Meta):
        fields = [*OriginalPostSerializer.Meta.fields, "repost_of"]
        read_only_fields = fields


# DRF's own formatting (ISO 8601, the current time zone, UTC as "Z"), as PostSerializer's.
_DATETIME = serializers.DateTimeField()


def _feed_post_data(post: FeedPost) -> dict:
    return {
        "id": post.id,
        "author": {"id": post.author_id, "username": post.author_username},
        "body": post.body,
        "media_urls": post.media_urls,
        "created_at": _DATETIME.to_representation(post.created_at),
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "share_count": post.share_count,
        "liked_by_me": post.liked_by_me,
    }


def feed_posts_data(posts: Sequence[FeedPost]) -> list[dict]:
    """Feed pages (timelines.public.FeedPost values) as PostSerializer renders posts, field
    for field (test_feed_posts_render_as_post_serializer_does in tests/timelines/feed/test_rows.py
    compares the two), without DRF's per-field machinery (why: docs/performance.md)."""
    data = []
    for post in posts:
        item = _feed_post_data(post)
        item["repost_of"] = None if post.repost_of is None else _feed_post_data(post.repost_of)
        data.append(item)
    return data


class PostCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX_LENGTH)
    media_urls = serializers.ListField(
        child=serializers.URLField(
            max_length=MEDIA_URL_MAX_LENGTH,
            validators=[URLValidator(schemes=["http", "https"], message="Only http(s) URLs are allowed.")],
        ),
        max_length=MEDIA_URLS_MAX,
        required=False,
        default=list,
    )


class CommentSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "post", "author", "body", "created_at"]
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH)
