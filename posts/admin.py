from django.contrib import admin

from posts.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "author", "short_body", "delivery", "created_at", "deleted_at"]
    list_filter = ["delivery", ("deleted_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["body", "author__username"]
    list_select_related = ["author"]
    raw_id_fields = ["author", "deleted_by"]
    readonly_fields = ["delivery", "created_at", "deleted_at", "deleted_by"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # posts are created through the API so they are fanned out

    @admin.display(description="body")
    def short_body(self, post: Post) -> str:
        return post.body if len(post.body) <= 80 else post.body[:77] + "..."
