from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class FanoutMode(models.TextChoices):
    AUTO = "auto", "auto (by follower count)"
    PUSH = "push", "push (fan out on write)"
    PULL = "pull", "pull (merge on read)"


class Account(AbstractUser):
    """A user. Follower counts are denormalised here (updated with F() in graph.services)
    because the fan-out mode of every post depends on them."""

    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    fanout_override = models.CharField(
        max_length=4,
        choices=FanoutMode.choices,
        default=FanoutMode.AUTO,
        help_text="Force this account's new posts to push or pull mode; auto follows the "
        "celebrity threshold.",
    )
    has_pull_posts = models.BooleanField(
        default=False,
        help_text="Set when the account first publishes a post in pull mode. Feeds of its "
        "followers then read its outbox; it never resets, so a post is never lost when the "
        "account later drops back to push mode.",
    )

    celebrity = models.BooleanField(
        default=False,
        help_text="Auto mode state with hysteresis: set when the account reaches the celebrity "
        "threshold, cleared only when it falls below the demotion bound (see FeedConfig).",
    )
    last_feed_read_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the user last read their feed (updated at most once an hour). Fan-out "
        "skips users inactive for FeedConfig.inactive_days.",
    )

    class Meta:
        db_table = "graph_account"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="account_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ]
        indexes = [
            # Every feed read asks which followees have pull-mode posts: a few accounts among
            # millions, so a tiny partial index beats scanning the table.
            models.Index(fields=["id"], name="account_pull_authors", condition=models.Q(has_pull_posts=True)),
            # Suggestions for new accounts: the most followed, without scanning the table.
            models.Index(fields=["-followers_count"], name="account_most_followed"),
        ]


class Follow(models.Model):
    follower = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="following_edges")
    followee = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="follower_edges")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]
        indexes = [
            # Fan-out walks an author's followers in keyset batches: index-only scan.
            models.Index(fields=["followee", "id"], include=["follower"], name="follow_followers"),
            models.Index(fields=["follower", "id"], include=["followee"], name="follow_following"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} -> {self.followee_id}"


class Block(models.Model):
    blocker = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"], name="block_reverse")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Mute(models.Model):
    muter = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mutes_made")
    muted = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mutes_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="mute_unique"),
            models.CheckConstraint(condition=~models.Q(muter=models.F("muted")), name="mute_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.muter_id} mutes {self.muted_id}"


class Dismissal(models.Model):
    """A suggestion the account dismissed (DELETE /api/v1/suggestions/:id): never suggested again."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="dismissals")
    dismissed = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "dismissed"], name="dismissal_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} dismissed {self.dismissed_id}"
