from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

BODY_MAX_LENGTH = 2000
MEDIA_URLS_MAX = 4
MEDIA_URL_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 2000


class Delivery(models.TextChoices):
    PUSH = "push", "pushed to followers' timelines"
    PULL = "pull", "pulled from the author's outbox"


class FanoutState(models.TextChoices):
    PENDING = "pending", "pending: not yet handed to the fan-out workers"
    DONE = "done", "done: delivered to the outbox, or every follower chunk enqueued"


class Post(models.Model):
    """A post. Ids are increasing, so "newest first" is "highest id first" everywhere."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts", db_index=False
    )
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    media_urls = ArrayField(
        models.URLField(max_length=MEDIA_URL_MAX_LENGTH), size=MEDIA_URLS_MAX, default=list, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Decided once, when the post is created, from the author's mode at that moment; readers
    # look for the post only where it was delivered, so mode changes never lose or double it.
    delivery = models.CharField(max_length=4, choices=Delivery.choices, default=Delivery.PUSH)
    # Fan-out bookkeeping in the source of truth: the broker is Redis, so a post whose fan-out
    # could not be enqueued (Redis down) or whose message was lost (Redis flushed) stays
    # pending until timelines.fanout.ledger.fanout_sweep enqueues it again.
    fanout_state = models.CharField(max_length=7, choices=FanoutState.choices, default=FanoutState.PENDING)
    fanout_swept_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A share (repost) is a post of its own, fanned out like any other; it always points at
    # the original, never at another share (posts.services.share_create resolves that).
    # Moderation: who restored a soft-deleted post, and when (the admin's history keeps each
    # delete and restore too).
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    repost_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="reposts", db_index=False
    )
    # Denormalised, kept exact by F() updates in the same transaction as the like, comment or
    # share row (posts.services), so readers never count rows.
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    share_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["author", "-id"], name="post_author_newest"),
            # Only pending posts are indexed, so the sweeper's scan stays tiny.
            models.Index(
                fields=["id"], condition=models.Q(fanout_state="pending"), name="post_fanout_pending"
            ),
        ]
        constraints = [
            # One live share per account and original: sharing twice is idempotent. Its index,
            # led by repost_of, also finds an original's shares (feed dedup, engagement).
            models.UniqueConstraint(
                fields=["repost_of", "author"],
                condition=models.Q(repost_of__isnull=False, deleted_at__isnull=True),
                name="post_one_share_per_author",
            ),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} by {self.author_id}"


class Like(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="like_unique")]
        indexes = [
            # Recency-weighted engagement of a set of posts (ranking features).
            models.Index(fields=["post", "created_at"], name="like_post_recent"),
            # A viewer's recent likes (ranking affinity).
            models.Index(fields=["user", "-created_at"], name="like_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments", db_index=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A post's comments newest first (keyset pages), and its recent ones (ranking).
            models.Index(fields=["post", "-id"], name="comment_post_newest"),
            models.Index(fields=["post", "created_at"], name="comment_post_recent"),
            # A viewer's recent comments (ranking affinity).
            models.Index(fields=["author", "-created_at"], name="comment_author_recent"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.post_id}"
