from django.contrib import admin

from feedsite.singleton import SingletonAdmin
from ranking.models import (
    COLD_START_FIELDS,
    RANKING_FIELDS,
    TRENDS_FIELDS,
    RankingConfig,
    TrendHide,
    TrendsConfig,
)


@admin.register(RankingConfig)
class RankingConfigAdmin(SingletonAdmin):
    list_display = ["__str__", "default_feed_mode", "rank_candidates", "updated_at"]
    fieldsets = (
        ("Ranked feeds", {"fields": list(RANKING_FIELDS)}),
        ("Cold start: trending posts for new accounts", {"fields": list(COLD_START_FIELDS)}),
    )


@admin.register(TrendsConfig)
class TrendsConfigAdmin(SingletonAdmin):
    list_display = [
        "__str__",
        "trend_window_hours",
        "trend_max_per_author",
        "trend_max_posts",
        "updated_at",
    ]
    fieldsets = (("Trends", {"fields": list(TRENDS_FIELDS)}),)


@admin.register(TrendHide)
class TrendHideAdmin(admin.ModelAdmin):
    """Moderation: keep a post, or an account's posts, out of trends (from the next read on)."""

    list_display = ["__str__", "post", "account", "reason", "created_by", "created_at"]
    raw_id_fields = ["post", "account"]
    readonly_fields = ["created_by", "created_at"]
    search_fields = ["account__username", "reason"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
