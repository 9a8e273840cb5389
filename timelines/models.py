from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FeedConfig(models.Model):
    """The single row of runtime feed settings, edited in the admin or with
    ``manage.py feed_config``. Read fresh by each fan-out, so a change applies to the next post."""

    SINGLETON_ID = 1

    celebrity_threshold = models.PositiveIntegerField(
        default=10_000,
        validators=[MinValueValidator(1)],
        help_text="Authors with at least this many followers are in pull mode: their posts are "
        "not fanned out but merged into followers' feeds at read time.",
    )
    timeline_length = models.PositiveIntegerField(
        default=800,
        validators=[MinValueValidator(20), MaxValueValidator(10_000)],
        help_text="Post ids kept per Redis timeline and per celebrity outbox. Older posts are "
        "still reachable: feeds fall back to PostgreSQL past the cached window.",
    )
    fanout_chunk_size = models.PositiveIntegerField(
        default=1_000,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Followers per fan-out chunk task (one Redis round trip each).",
    )
    follow_backfill = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text="How many of an account's recent posts enter your timeline when you follow it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "feed configuration"
        verbose_name_plural = "feed configuration"

    def __str__(self) -> str:
        return "Feed configuration"

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> FeedConfig:
        config, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return config
