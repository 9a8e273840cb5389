from django.contrib import admin

from feedsite.singleton import SingletonAdmin
from timelines.models import LIFECYCLE_FIELDS, FeedConfig


@admin.register(FeedConfig)
class FeedConfigAdmin(SingletonAdmin):
    list_display = [
        "__str__",
        "celebrity_threshold",
        "timeline_length",
        "fanout_chunk_size",
        "follow_backfill",
        "inactive_days",
        "updated_at",
    ]
    fieldsets = (
        (
            "Fan-out",
            {"fields": ["celebrity_threshold", "timeline_length", "fanout_chunk_size", "follow_backfill"]},
        ),
        ("Feed lifecycle", {"fields": list(LIFECYCLE_FIELDS)}),
    )
