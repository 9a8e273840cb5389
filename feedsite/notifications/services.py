"""Writes to notifications (docs/architecture.md#notifications): created from an event after
its transaction commits (tasks.notify, one event per like, follow, share, comment or post),
removed when the event is undone, its post deleted or its accounts blocked or muted. Nothing
is created for your own actions, from an account you blocked or that blocked you, or from an
account you muted."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q

from feedsite.mastodon.models import Marker, MarkerTimeline
from feedsite.mastodon.services import marker_set
from feedsite.notifications import store
from feedsite.notifications.models import GROUPED_KINDS, Kind, Mention, Notification, NotificationGroup
from graph.models import Account, Block, Follow, Mute
from posts.models import Comment, Like, Post
from timelines.public import publish_notification


def group_key(*, kind: str, post_id: int | None, source_id: int, comment_id: int | None) -> str:
    """Mastodon 4.3's grouping: likes and shares of one post, and follows of one day, are one
    group; every other notification is a group of its own."""
    if kind in GROUPED_KINDS:
        if kind == Kind.FOLLOW:
            return f"follow-{datetime.now(UTC).date().isoformat()}"
        return f"{kind}-{post_id}"
    return f"ungrouped-{kind}-{'c' if comment_id else 'p'}{source_id}"


def _event_rows(*, kind: str, source_id: int) -> list[store.NewNotification]:
    """Who hears about the event (recipient ids), by whom, about what; [] if it is gone."""
    rows: list[tuple[int, str, int, int | None, int | None]] = []  # recipient, kind, actor, post, comment
    if kind == Kind.FAVOURITE:
        like = Like.objects.filter(pk=source_id).select_related("post").first()
        if like is not None and like.post.deleted_at is None:
            rows.append((like.post.author_id, kind, like.user_id, like.post_id, None))
    elif kind == Kind.FOLLOW:
        follow = Follow.objects.filter(pk=source_id).first()
        if follow is not None:
            rows.append((follow.followee_id, kind, follow.follower_id, None, None))
    elif kind == Kind.REBLOG:
        share = Post.objects.filter(pk=source_id, deleted_at__isnull=True).select_related("repost_of").first()
        if share is not None and share.repost_of is not None and share.repost_of.deleted_at is None:
            rows.append((share.repost_of.author_id, kind, share.author_id, share.repost_of_id, None))
    elif kind == Kind.REPLY:
        comment = Comment.objects.filter(pk=source_id).select_related("post").first()
        if comment is not None and comment.post.deleted_at is None:
            rows.append((comment.post.author_id, kind, comment.author_id, comment.post_id, comment.pk))
            for account_id in _mentioned(post_id=comment.post_id, comment_id=comment.pk):
                if account_id != comment.post.author_id:  # the reply already tells them
                    rows.append((account_id, Kind.MENTION, comment.author_id, comment.post_id, comment.pk))
    elif kind == Kind.MENTION:
        post = Post.objects.filter(pk=source_id, deleted_at__isnull=True).first()
        if post is not None:
            for account_id in _mentioned(post_id=post.pk, comment_id=None):
                rows.append((account_id, kind, post.author_id, post.pk, None))
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    rows = [row for row in rows if row[0] != row[2]]  # never for your own actions
    silenced = _silenced_recipients(
        actor_ids={row[2] for row in rows}, recipient_ids={row[0] for row in rows}
    )
    return [
        store.NewNotification(
            recipient_id=recipient,
            kind=row_kind,
            actor_id=actor,
            post_id=post_id,
            comment_id=comment_id,
            source_id=source_id,
            group_key=group_key(kind=row_kind, post_id=post_id, source_id=source_id, comment_id=comment_id),
        )
        for recipient, row_kind, actor, post_id, comment_id in rows
        if (recipient, actor) not in silenced
    ]


def _mentioned(*, post_id: int, comment_id: int | None) -> list[int]:
    return list(
        Mention.objects.filter(post_id=post_id, comment_id=comment_id).values_list("account_id", flat=True)
    )


def _silenced_recipients(*, actor_ids: set[int], recipient_ids: set[int]) -> set[tuple[int, int]]:
    """(recipient, actor) pairs with a block either way, or the recipient muting the actor."""
    if not actor_ids or not recipient_ids:
        return set()
    pairs: set[tuple[int, int]] = set()
    for blocker, blocked in Block.objects.filter(
        Q(blocker_id__in=recipient_ids, blocked_id__in=actor_ids)
        | Q(blocker_id__in=actor_ids, blocked_id__in=recipient_ids)
    ).values_list("blocker_id", "blocked_id"):
        pairs.update({(blocker, blocked), (blocked, blocker)})
    pairs.update(
        Mute.objects.filter(muter_id__in=recipient_ids, muted_id__in=actor_ids).values_list(
            "muter_id", "muted_id"
        )
    )
    return pairs


def notification_event(*, kind: str, source_id: int) -> list[int]:
    """Create the notifications of one committed event (idempotent: a replay creates none);
    returns their ids. Each one is announced on its recipient's open streams after commit."""
    with transaction.atomic():
        created = store.notifications_insert(_event_rows(kind=kind, source_id=source_id))
        for notification_id, recipient_id in created:
            transaction.on_commit(
                lambda n=notification_id, r=recipient_id: publish_notification(user_id=r, notification_id=n),
                robust=True,
            )
    return [notification_id for notification_id, _ in created]


def notification_for_like(*, like_id: int) -> list[int]:
    """A like's notification, created in the like's own transaction by one statement (a
    rolled-back like takes it along); announced on the author's open streams after commit."""
    created = store.favourite_insert(like_id=like_id)
    for notification_id, recipient_id in created:
        transaction.on_commit(
            lambda n=notification_id, r=recipient_id: publish_notification(user_id=r, notification_id=n),
            robust=True,
        )
    return [notification_id for notification_id, _ in created]


def notifications_undo(*, kind: str, source_id: int) -> int:
    """An unlike, unfollow, unshare or deleted comment: its notifications go."""
    return store.notifications_delete(
        Notification.objects.filter(kind__in=_kinds_of(kind), source_id=source_id)
    )


def _kinds_of(kind: str) -> list[str]:
    # A comment's event made a reply and mentions; a post's made mentions.
    return [Kind.REPLY, Kind.MENTION] if kind == Kind.REPLY else [kind]


def notifications_for_post_remove(*, post_id: int) -> int:
    """A deleted post: the notifications about it, and the reblog one of a deleted share."""
    removed = store.notifications_delete(Notification.objects.filter(post_id=post_id))
    return removed + store.notifications_delete(
        Notification.objects.filter(kind=Kind.REBLOG, source_id=post_id)
    )


def notifications_between_remove(*, recipient_id: int, actor_id: int, both_ways: bool) -> int:
    """A block (both ways) or a mute (the muter's notifications from the muted account)."""
    pair = Q(recipient_id=recipient_id, actor_id=actor_id)
    if both_ways:
        pair |= Q(recipient_id=actor_id, actor_id=recipient_id)
    return store.notifications_delete(Notification.objects.filter(pair))


def notification_dismiss(*, recipient: Account, notification_id: int) -> bool:
    return bool(
        store.notifications_delete(Notification.objects.filter(pk=notification_id, recipient=recipient))
    )


def notifications_clear(*, recipient: Account) -> int:
    """Every notification of ``recipient`` goes, and with them all their groups."""
    with transaction.atomic():
        NotificationGroup.objects.filter(recipient=recipient).delete()
        deleted, _ = Notification.objects.filter(recipient=recipient).delete()
    return deleted


def notifications_read(*, recipient: Account, last_read_id: int) -> Marker:
    """Move the read marker: the same Mastodon ``notifications`` marker both APIs use."""
    return marker_set(
        account=recipient, timeline=MarkerTimeline.NOTIFICATIONS, last_read_id=str(last_read_id)
    )
