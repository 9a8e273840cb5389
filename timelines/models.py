from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from feedsite.singleton import SingletonModel


class FeedMode(models.TextChoices):
    CHRONOLOGICAL = "chronological", "chronological (newest first)"
    RANKED = "ranked", "ranked (most interesting first)"


# The knobs of the feed lifecycle (issue 4), in the order the admin and ``feed_config`` show them.
LIFECYCLE_FIELDS = ("celebrity_demote_percent", "inactive_days", "outbox_cache_ms", "rebuild_wait_ms")


class FeedConfig(SingletonModel):
    """The single row of runtime feed settings, edited in the admin or with
    ``manage.py feed_config``. The read path and fan-out use ``cached()`` (a change applies
    within seconds); post creation uses ``load()``, so the threshold in force decides the very
    next post's delivery. Ranked feeds have their own row (ranking.models.RankingConfig)."""

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
        default=10_000,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Followers per fan-out chunk task (one Redis round trip each). Fan-out pushes "
        "the first chunk itself; bigger chunks mean fewer tasks, smaller ones more parallelism.",
    )
    follow_backfill = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text="How many of an account's recent posts enter your timeline when you follow it.",
    )
    # -- feed lifecycle ---------------------------------------------------------------------
    celebrity_demote_percent = models.PositiveIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Hysteresis: an account promoted to pull mode at the threshold goes back to push "
        "mode only when its followers fall below this percentage of the threshold, so accounts "
        "near the line do not flap. 100 turns hysteresis off.",
    )
    inactive_days = models.PositiveIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Fan-out skips users who have not read their feed for this many days; their "
        "timelines expire and are rebuilt from PostgreSQL when they next read.",
    )
    outbox_cache_ms = models.PositiveIntegerField(
        default=1_000,
        validators=[MaxValueValidator(60_000)],
        help_text="Each web process keeps celebrity outboxes it read for this long, so many "
        "followers do not all hit one Redis key. A new post by a celebrity can take this long to "
        "show in other processes. 0 turns the cache off.",
    )
    rebuild_wait_ms = models.PositiveIntegerField(
        default=2_000,
        validators=[MaxValueValidator(30_000)],
        help_text="A reader that finds a timeline or outbox being rebuilt by someone else waits up "
        "to this long for it, then serves its page from PostgreSQL without caching it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "feed configuration"
        verbose_name_plural = "feed configuration"

    def __str__(self) -> str:
        return "Feed configuration"

    @property
    def celebrity_demote_below(self) -> int:
        """Pull-mode accounts return to push mode below this many followers."""
        return self.celebrity_threshold * self.celebrity_demote_percent // 100


class StaleTimeline(models.Model):
    """A user whose cached timeline may have missed a change: an after-commit update (follow
    backfill, unfollow/block/mute removal) failed because Redis was unavailable. The fan-out
    sweeper drops the cached list once Redis answers, so the next read rebuilds it from
    PostgreSQL."""

    user_id = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"stale timeline of {self.user_id}"


class PendingChunk(models.Model):
    """A fan-out chunk handed to the broker and not written yet. The Redis broker pops a
    message before it records it as unacknowledged, so a worker killed in between loses the
    message for good (acks_late cannot help); the sweeper re-sends chunks still here after
    the grace period, as deduplicating replays. Posts whose followers fit in the first batch
    (pushed by fanout_post itself) never create one."""

    post_id = models.BigIntegerField()
    digest = models.CharField(max_length=32)  # of the follower ids, as the chunk's claim
    user_ids = ArrayField(models.BigIntegerField())
    queue = models.CharField(max_length=32)
    sent_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post_id", "digest"], name="pending_chunk_unique")]
        indexes = [models.Index(fields=["sent_at"], name="pending_chunk_sent")]

    def __str__(self) -> str:
        return f"chunk {self.digest} of post {self.post_id}"
