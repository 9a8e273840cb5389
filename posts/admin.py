from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from graph.admin import EdgeAdmin
from posts.models import Comment, Like, Post
from posts.services import post_delete, post_restore


class AuthorFilter(admin.SimpleListFilter):
    """Filter by author id (``?author=ID``). Listing every author as a choice would not scale
    to many accounts, so the list links each author's name to this filter instead."""

    title = "author"
    parameter_name = "author"

    def lookups(self, request, model_admin):
        value = self.value()
        if value and value.isdigit():
            username = get_user_model().objects.filter(pk=value).values_list("username", flat=True).first()
            return [(value, username or f"account {value}")]
        return []

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(author_id=value) if value.isdigit() else queryset.none()


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "author_link",
        "short_body",
        "repost_of",
        "like_count",
        "comment_count",
        "share_count",
        "delivery",
        "created_at",
        "deleted_at",
        "deleted_by",
    ]
    list_filter = [AuthorFilter, ("deleted_at", admin.EmptyFieldListFilter), "delivery", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["body", "author__username"]
    list_select_related = ["author", "deleted_by"]
    raw_id_fields = ["author", "deleted_by", "restored_by", "repost_of"]
    readonly_fields = [
        "delivery",
        "created_at",
        "deleted_at",
        "deleted_by",
        "restored_at",
        "restored_by",
        "repost_of",
        "like_count",
        "comment_count",
        "share_count",
    ]
    actions = ["soft_delete", "restore"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # posts are created through the API so they are fanned out

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # moderation soft-deletes (the actions below); rows are never removed here

    @admin.display(description="body")
    def short_body(self, post: Post) -> str:
        return post.body if len(post.body) <= 80 else post.body[:77] + "..."

    @admin.display(description="author", ordering="author__username")
    def author_link(self, post: Post) -> str:
        url = reverse("admin:posts_post_changelist") + f"?author={post.author_id}"
        return format_html('<a href="{}">{}</a>', url, post.author.username)

    @admin.action(description="Soft-delete selected posts (hidden from every feed at once)")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = 0
        for post in queryset.filter(deleted_at__isnull=True):
            post_delete(post=post, actor=request.user)
            self.log_change(request, post, "Soft-deleted (hidden from feeds).")
            done += 1
        self.message_user(request, f"Soft-deleted {done} post(s).", messages.SUCCESS)

    @admin.action(description="Restore selected posts (they reappear in feeds)")
    def restore(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = 0
        for post in queryset.filter(deleted_at__isnull=False):
            try:
                restored = post_restore(post=post, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            if restored:
                self.log_change(request, post, "Restored (fanned out to feeds again).")
                done += 1
        self.message_user(request, f"Restored {done} post(s).", messages.SUCCESS)


class EngagementAdmin(EdgeAdmin):
    """Likes and comments: searchable and read-only; they change through the API, which keeps
    the posts' counts exact (so no deleting here either)."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Like)
class LikeAdmin(EngagementAdmin):
    list_display = ["user", "post", "created_at"]
    search_fields = ["user__username"]
    list_select_related = ["user", "post"]
    raw_id_fields = ["user", "post"]


@admin.register(Comment)
class CommentAdmin(EngagementAdmin):
    list_display = ["author", "post", "body", "created_at"]
    search_fields = ["author__username", "body"]
    list_select_related = ["author", "post"]
    raw_id_fields = ["author", "post"]
