"""What the Mastodon API stores beyond our own data: read markers and the Idempotency-Key
record of status posts. Both in PostgreSQL (docs/architecture.md: Redis holds only what can be
rebuilt, and neither can)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MarkerTimeline(models.TextChoices):
    HOME = "home", "home timeline"
    NOTIFICATIONS = "notifications", "notifications"


class Marker(models.Model):
    """A user's read position in a timeline, synced across their devices (Mastodon's Marker)."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    timeline = models.CharField(max_length=16, choices=MarkerTimeline.choices)
    last_read_id = models.CharField(max_length=32)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "timeline"], name="marker_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} read {self.timeline} to {self.last_read_id}"


class StatusIdempotencyKey(models.Model):
    """The status an ``Idempotency-Key`` created: the same key from the same account within
    IDEMPOTENCY_WINDOW returns that status instead of posting again. Stored in the same
    transaction as the status, so a retry can never find a key without its status."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    status_id = models.CharField(max_length=32)  # the Status entity's id (a post or a comment)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} key {self.key} -> {self.status_id}"
