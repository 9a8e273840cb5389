"""Where notifications hear about events: model signals of likes, follows, comments, posts and
the graph, and posts' own ``post_deleted`` (soft deletes are updates, not deletes). Creation is
queued after commit (a rolled-back like notifies no one), except a like's, which is one INSERT in
the like's own transaction (rolled back with it); undoing removes at once. The
NOTIFICATIONS setting switches it all off (the benchmark's baseline)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from feedsite.notifications import services, tasks
from feedsite.notifications.mentions import mentions_store
from feedsite.notifications.models import Kind
from graph.models import Block, Follow, Mute
from posts.models import Comment, Like, Post
from posts.signals import post_deleted


def _queue(kind: str, source_id: int) -> None:
    def enqueue() -> None:
        tasks.notify.delay(kind, source_id)

    # robust: the event is committed; a broker hiccup is logged, not a 500 for a row that exists.
    # A named function, not a partial: Django's robust logging reads __qualname__.
    transaction.on_commit(enqueue, robust=True)


def _created(instance: Any, created: bool, raw: bool) -> bool:
    return created and not raw and settings.NOTIFICATIONS


@receiver(post_save, sender=Like, dispatch_uid="notifications.like")
def like_saved(sender: type, instance: Like, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if _created(instance, created, raw):
        # The burst path: one INSERT in the like's transaction instead of a task to publish.
        services.notification_for_like(like_id=instance.pk)


@receiver(post_save, sender=Follow, dispatch_uid="notifications.follow")
def follow_saved(sender: type, instance: Follow, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if _created(instance, created, raw):
        _queue(Kind.FOLLOW, instance.pk)


@receiver(post_save, sender=Comment, dispatch_uid="notifications.comment")
def comment_saved(sender: type, instance: Comment, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    mentions_store(
        post_id=instance.post_id, comment_id=instance.pk, author_id=instance.author_id, text=instance.body
    )
    if settings.NOTIFICATIONS:
        _queue(Kind.REPLY, instance.pk)


@receiver(post_save, sender=Post, dispatch_uid="notifications.post")
def post_saved(sender: type, instance: Post, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    if instance.repost_of_id is not None:
        if settings.NOTIFICATIONS:
            _queue(Kind.REBLOG, instance.pk)
        return
    body = instance.body
    mentioned = mentions_store(post_id=instance.pk, comment_id=None, author_id=instance.author_id, text=body)
    if mentioned and settings.NOTIFICATIONS:
        _queue(Kind.MENTION, instance.pk)


@receiver(post_delete, sender=Like, dispatch_uid="notifications.unlike")
def like_deleted(sender: type, instance: Like, **kwargs: Any) -> None:
    services.notifications_undo(kind=Kind.FAVOURITE, source_id=instance.pk)


@receiver(pre_delete, sender=Comment, dispatch_uid="notifications.comment_deleted")
def comment_deleted(sender: type, instance: Comment, **kwargs: Any) -> None:
    # pre_delete: before the cascade removes its notifications behind their groups' backs.
    services.notifications_undo(kind=Kind.REPLY, source_id=instance.pk)


@receiver(post_delete, sender=Follow, dispatch_uid="notifications.unfollow")
def follow_deleted(sender: type, instance: Follow, **kwargs: Any) -> None:
    services.notifications_undo(kind=Kind.FOLLOW, source_id=instance.pk)


@receiver(post_deleted, dispatch_uid="notifications.post_deleted")
def post_soft_deleted(sender: type, post_id: int, **kwargs: Any) -> None:
    def enqueue() -> None:
        tasks.post_notifications_remove.delay(post_id)

    transaction.on_commit(enqueue, robust=True)


@receiver(post_save, sender=Block, dispatch_uid="notifications.block")
def block_saved(sender: type, instance: Block, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.notifications_between_remove(
            recipient_id=instance.blocker_id, actor_id=instance.blocked_id, both_ways=True
        )


@receiver(post_save, sender=Mute, dispatch_uid="notifications.mute")
def mute_saved(sender: type, instance: Mute, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.notifications_between_remove(
            recipient_id=instance.muter_id, actor_id=instance.muted_id, both_ways=False
        )
