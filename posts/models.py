from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

BODY_MAX_LENGTH = 2000
MEDIA_URLS_MAX = 4
MEDIA_URL_MAX_LENGTH = 2000


class Delivery(models.TextChoices):
    PUSH = "push", "pushed to followers' timelines"
    PULL = "pull", "pulled from the author's outbox"


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
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["author", "-id"], name="post_author_newest"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} by {self.author_id}"
