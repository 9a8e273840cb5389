from django.contrib import admin

from timelines.models import FeedConfig


@admin.register(FeedConfig)
class FeedConfigAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "celebrity_threshold",
        "timeline_length",
        "fanout_chunk_size",
        "follow_backfill",
        "default_feed_mode",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return not FeedConfig.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
