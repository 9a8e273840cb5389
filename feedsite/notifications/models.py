"""Notifications, their groups and the mentions kept on posts and comments
(docs/architecture.md#notifications).

A Notification names the row that caused it (``source_id``: the like, follow, comment or
share post, or the mentioning post), so undoing that row deletes exactly its notification. A
NotificationGroup holds what Mastodon's grouped notifications show (count, most recent id),
maintained with each insert and delete, so a page of groups reads one row per group however
many notifications a group has."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    FOLLOW = "follow", "followed you"
    FAVOURITE = "favourite", "liked your post"
    REBLOG = "reblog", "shared your post"
    REPLY = "reply", "commented on your post"
    MENTION = "mention", "mentioned you"


# Kinds whose notifications share a group per post (or, for follows, per day), as Mastodon 4.3.
GROUPED_KINDS = (Kind.FOLLOW, Kind.FAVOURITE, Kind.REBLOG)


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=9, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The post it is about (the original for likes, shares and replies); none for follows.
    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    # The comment, for a reply or a mention in a comment (deleting the comment deletes it).
    comment = models.ForeignKey(
        "posts.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    source_id = models.BigIntegerField()
    group_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The recipient's notifications newest first (keyset pages, filters by kind).
            models.Index(fields=["recipient", "-id"], name="notification_recipient_newest"),
            # A group's newest rows (sample accounts, most recent id after a delete).
            models.Index(fields=["recipient", "group_key", "-id"], name="notification_group_newest"),
            models.Index(fields=["post"], name="notification_post", condition=models.Q(post__isnull=False)),
        ]
        constraints = [
            # A replayed task creates nothing twice; its index also finds the notifications of
            # one like, follow, share or comment when it is undone.
            models.UniqueConstraint(fields=["kind", "source_id", "recipient"], name="notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} by {self.actor_id}"


class NotificationGroup(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    group_key = models.CharField(max_length=64)
    kind = models.CharField(max_length=9, choices=Kind.choices)
    notifications_count = models.PositiveIntegerField(default=0)
    most_recent_id = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "group_key"], name="notification_group_unique"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-most_recent_id"], name="notification_group_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.group_key} for {self.recipient_id} ({self.notifications_count})"


class Mention(models.Model):
    """An ``@username`` of a local account in a post's or comment's body, parsed when it is
    created (feedsite.notifications.mentions)."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="+", db_index=False)
    comment = models.ForeignKey(
        "posts.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["post", "comment"], name="mention_post")]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "comment", "account"], name="mention_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} mentioned in {self.post_id}/{self.comment_id}"
