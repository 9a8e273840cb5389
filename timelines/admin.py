from django.contrib import admin

from timelines.models import LIFECYCLE_FIELDS, RANKING_FIELDS, FeedConfig


@admin.register(FeedConfig)
class FeedConfigAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "celebrity_threshold",
        "timeline_length",
        "fanout_chunk_size",
        "follow_backfill",
        "inactive_days",
        "default_feed_mode",
        "updated_at",
    ]
    fieldsets = (
        (
            "Fan-out",
            {"fields": ["celebrity_threshold", "timeline_length", "fanout_chunk_size", "follow_backfill"]},
        ),
        ("Feed lifecycle", {"fields": list(LIFECYCLE_FIELDS)}),
        ("Ranked feeds", {"fields": list(RANKING_FIELDS)}),
    )

    def has_add_permission(self, request) -> bool:
        return not FeedConfig.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
