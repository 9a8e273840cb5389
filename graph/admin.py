from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from graph.models import Account, Block, Follow, Mute
from timelines.models import FeedConfig
from timelines.public import account_fanout_mode


@admin.register(Account)
class AccountAdmin(UserAdmin):
    list_display = [
        "username",
        "followers_count",
        "following_count",
        "effective_fanout_mode",
        "fanout_override",
        "last_feed_read_at",
        "is_staff",
    ]
    list_editable = ["fanout_override"]  # force push/pull straight from the list
    list_filter = ["fanout_override", "celebrity", "has_pull_posts", "is_staff", "is_active"]
    search_fields = ["username"]
    readonly_fields = [
        "followers_count",
        "following_count",
        "effective_fanout_mode",
        "celebrity",
        "has_pull_posts",
        "last_feed_read_at",
    ]
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Feed",
            {
                "fields": [
                    "fanout_override",
                    "effective_fanout_mode",
                    "followers_count",
                    "following_count",
                    "celebrity",
                    "has_pull_posts",
                    "last_feed_read_at",
                ]
            },
        ),
    )

    def get_queryset(self, request):
        self._feed_config = FeedConfig.load()
        return super().get_queryset(request)

    @admin.display(description="fan-out mode")
    def effective_fanout_mode(self, account: Account) -> str:
        config = getattr(self, "_feed_config", None) or FeedConfig.load()
        return account_fanout_mode(account=account, config=config)


class EdgeAdmin(admin.ModelAdmin):
    """Graph edges: searchable and read-only (change them through the API, which keeps
    counts and timelines in step)."""

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Follow)
class FollowAdmin(EdgeAdmin):
    list_display = ["follower", "followee", "created_at"]
    search_fields = ["follower__username", "followee__username"]
    list_select_related = ["follower", "followee"]


@admin.register(Block)
class BlockAdmin(EdgeAdmin):
    list_display = ["blocker", "blocked", "created_at"]
    search_fields = ["blocker__username", "blocked__username"]
    list_select_related = ["blocker", "blocked"]


@admin.register(Mute)
class MuteAdmin(EdgeAdmin):
    list_display = ["muter", "muted", "created_at"]
    search_fields = ["muter__username", "muted__username"]
    list_select_related = ["muter", "muted"]
