"""Ranking's knobs: one row (feedsite.singleton), read through ``cached()`` on every ranked
request, so an edit in the admin or with ``manage.py feed_config`` applies within seconds."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from feedsite.singleton import SingletonModel
from timelines.models import FeedMode


def _weight(default: float, help_text: str) -> models.FloatField:
    return models.FloatField(
        default=default, validators=[MinValueValidator(0.0), MaxValueValidator(1_000.0)], help_text=help_text
    )


def _hours(default: float, help_text: str) -> models.FloatField:
    return models.FloatField(
        default=default, validators=[MinValueValidator(0.1), MaxValueValidator(8_760.0)], help_text=help_text
    )


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
# The cold-start blend of trending posts (ranking.services), on the same row.
COLD_START_FIELDS = ("cold_start_follows", "cold_start_trending")


class RankingConfig(SingletonModel):
    """The single row of ranked-feed settings."""

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
    cold_start_follows = models.PositiveIntegerField(
        default=10,
        validators=[MaxValueValidator(10_000)],
        help_text="Viewers following fewer accounts than this get trending posts blended into "
        "their ranked feed.",
    )
    cold_start_trending = models.PositiveIntegerField(
        default=50,
        validators=[MaxValueValidator(500)],
        help_text="How many trending posts a cold-start ranked feed blends in.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ranking configuration"
        verbose_name_plural = "ranking configuration"

    def __str__(self) -> str:
        return "Ranking configuration"


# The knobs of the editorial feed (trends) and the cold-start blend, in admin order.
TRENDS_FIELDS = (
    "trend_window_hours",
    "trend_half_life_hours",
    "trend_like_weight",
    "trend_comment_weight",
    "trend_share_weight",
    "trend_max_per_author",
    "trend_max_posts",
)


class TrendsConfig(SingletonModel):
    """The single row of trends settings (docs/architecture.md#editorial-feed-and-suggestions),
    read fresh by each recompute. The cold-start blend's knobs are on RankingConfig."""

    trend_window_hours = _hours(24.0, "Only likes, comments and shares this recent count towards trends.")
    trend_half_life_hours = _hours(3.0, "A like, comment or share counts half as much this many hours later.")
    trend_like_weight = _weight(1.0, "Weight of a like in a post's trend score.")
    trend_comment_weight = _weight(3.0, "Weight of a comment in a post's trend score.")
    trend_share_weight = _weight(5.0, "Weight of a share in a post's trend score.")
    trend_max_per_author = models.PositiveIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Most posts by one author in the trends.",
    )
    trend_max_posts = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text="How many trending posts are kept (and can be paged through).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trends configuration"
        verbose_name_plural = "trends configuration"

    def __str__(self) -> str:
        return "Trends configuration"


class TrendHide(models.Model):
    """Moderation: a post, or all of an account's posts, kept out of trends (and so out of the
    cold-start blend), from the next read on."""

    post = models.OneToOneField(
        "posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    account = models.OneToOneField(
        "graph.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        "graph.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "hidden from trends"
        verbose_name_plural = "hidden from trends"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(post__isnull=True) ^ models.Q(account__isnull=True),
                name="trendhide_post_xor_account",
            )
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} hidden" if self.post_id else f"account {self.account_id} hidden"
