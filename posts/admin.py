from django.contrib import admin

from graph.admin import EdgeAdmin
from posts.models import Comment, Like, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "author",
        "short_body",
        "repost_of",
        "like_count",
        "comment_count",
        "share_count",
        "delivery",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["delivery", ("deleted_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["body", "author__username"]
    list_select_related = ["author"]
    raw_id_fields = ["author", "deleted_by", "repost_of"]
    readonly_fields = [
        "delivery",
        "created_at",
        "deleted_at",
        "deleted_by",
        "repost_of",
        "like_count",
        "comment_count",
        "share_count",
    ]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # posts are created through the API so they are fanned out

    @admin.display(description="body")
    def short_body(self, post: Post) -> str:
        return post.body if len(post.body) <= 80 else post.body[:77] + "..."


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
