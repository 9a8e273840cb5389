from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from graph.models import Account
from posts.models import Delivery, Post
from timelines.models import FeedConfig
from timelines.selectors import account_fanout_mode


def post_create(*, author: Account, body: str, media_urls: Sequence[str] = ()) -> Post:
    """Store a post; the post_save hook fans it out after commit.

    The delivery mode is fixed here, from the author's follower count and the threshold in
    force right now, so a threshold change applies to the very next post."""
    delivery = account_fanout_mode(account=author, config=FeedConfig.load())
    with transaction.atomic():
        post = Post.objects.create(author=author, body=body, media_urls=list(media_urls), delivery=delivery)
        if delivery == Delivery.PULL and not author.has_pull_posts:
            Account.objects.filter(pk=author.pk).update(has_pull_posts=True)
            author.has_pull_posts = True
    return post


def post_delete(*, post: Post, actor: Account) -> None:
    """Soft-delete. Feeds filter deleted posts when they load a page, so the post disappears
    everywhere at once without chasing its id through every follower's timeline."""
    if post.author_id != actor.pk and not actor.is_staff:
        raise PermissionDenied("Only the author or staff can delete this post.")
    Post.objects.filter(pk=post.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=actor
    )
