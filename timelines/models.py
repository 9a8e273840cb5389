from __future__ import annotations

import time

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FeedMode(models.TextChoices):
    CHRONOLOGICAL = "chronological", "chronological (newest first)"
    RANKED = "ranked", "ranked (most interesting first)"


def _weight(default: float, help_text: str) -> models.FloatField:
    return models.FloatField(
        default=default, validators=[MinValueValidator(0.0), MaxValueValidator(1_000.0)], help_text=help_text
    )


def _hours(default: float, help_text: str) -> models.FloatField:
    return models.FloatField(
        default=default, validators=[MinValueValidator(0.1), MaxValueValidator(8_760.0)], help_text=help_text
    )


# The knobs of the feed lifecycle (issue 4), in the order the admin and ``feed_config`` show them.
LIFECYCLE_FIELDS = ("celebrity_demote_percent", "inactive_days", "outbox_cache_ms", "rebuild_wait_ms")

# The knobs of ranked feeds, in the order the admin and ``feed_config`` show them.
RANKING_FIELDS = (
    "default_feed_mode",
    "rank_candidates",
    "rank_max_author_run",
    "rank_cold_start_interactions",
    "rank_recency_half_life_hours",
    "rank_engagement_half_life_hours",
    "rank_affinity_days",
    "rank_like_weight",
    "rank_comment_weight",
    "rank_share_weight",
    "rank_engagement_weight",
    "rank_affinity_weight",
    "rank_popularity_weight",
    "rank_media_boost",
    "rank_snapshot_ttl_seconds",
)


class FeedConfig(models.Model):
    """The single row of runtime feed settings, edited in the admin or with
    ``manage.py feed_config``. Fan-out and the feed read path use ``cached()``, a copy at
    most CACHE_SECONDS old, so a change applies to posts and pages within seconds."""

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
    # -- ranked feeds (ranking/): read on every ranked request, so edits apply at once ------
    default_feed_mode = models.CharField(
        max_length=13,
        choices=FeedMode.choices,
        default=FeedMode.CHRONOLOGICAL,
        help_text="The feed's order when a request does not say (?mode=).",
    )
    rank_candidates = models.PositiveIntegerField(
        default=500,
        validators=[MinValueValidator(20), MaxValueValidator(1_000)],
        help_text="How many of the newest feed entries a ranked feed ranks; older ones follow in time order.",
    )
    rank_max_author_run = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Most posts by the same author in a row in a ranked feed.",
    )
    rank_cold_start_interactions = models.PositiveIntegerField(
        default=50,
        validators=[MaxValueValidator(1_000)],
        help_text="Viewers with fewer likes, comments and shares than this within the affinity "
        "window get popularity instead of affinity.",
    )
    rank_recency_half_life_hours = _hours(6.0, "A post's score halves every this many hours of age.")
    rank_engagement_half_life_hours = _hours(
        24.0, "A like, comment or share counts half as much this many hours after it happened."
    )
    rank_affinity_days = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How far back the viewer's own likes, comments and shares count as affinity.",
    )
    rank_like_weight = _weight(1.0, "Weight of a like, in engagement, popularity and affinity.")
    rank_comment_weight = _weight(3.0, "Weight of a comment, in engagement, popularity and affinity.")
    rank_share_weight = _weight(5.0, "Weight of a share, in engagement, popularity and affinity.")
    rank_engagement_weight = _weight(1.0, "Weight of log(1 + recent weighted engagement) in the score.")
    rank_affinity_weight = _weight(2.0, "Weight of log(1 + viewer's affinity to the author) in the score.")
    rank_popularity_weight = _weight(
        1.0, "Cold start: weight of log(1 + all-time weighted engagement), replacing affinity."
    )
    rank_media_boost = _weight(0.5, "Added to the score of a post with media (before recency decay).")
    rank_snapshot_ttl_seconds = models.PositiveIntegerField(
        default=600,
        validators=[MinValueValidator(10), MaxValueValidator(86_400)],
        help_text="How long an idle ranked scroll keeps its order (each page renews it); after "
        "that the rest of the session is ranked afresh, still without repeats.",
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

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)
        FeedConfig.cache_clear()  # this process sees its own change at once

    @property
    def celebrity_demote_below(self) -> int:
        """Pull-mode accounts return to push mode below this many followers."""
        return self.celebrity_threshold * self.celebrity_demote_percent // 100

    @classmethod
    def load(cls) -> FeedConfig:
        config, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return config

    @classmethod
    def cached(cls) -> FeedConfig:
        """The row as this process read it at most CACHE_SECONDS ago: for the feed read path,
        which must not spend a query on it, and fan-out. Post creation uses ``load``: the
        threshold in force decides the very next post's delivery."""
        now = time.monotonic()
        entry = _cached
        if entry is not None and now - entry[0] < CACHE_SECONDS:
            return entry[1]
        config = cls.load()
        _set_cached((now, config))
        return config

    @classmethod
    def cache_clear(cls) -> None:
        _set_cached(None)


# Other processes see a change within this many seconds ("applies within seconds").
CACHE_SECONDS = 2.0
_cached: tuple[float, FeedConfig] | None = None


def _set_cached(entry: tuple[float, FeedConfig] | None) -> None:
    global _cached
    _cached = entry


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
