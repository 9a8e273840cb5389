"""Reads of notifications (docs/architecture.md#notifications), each a constant number of
queries per page: the recipient's notifications newest first (filtered by kind), their
groups newest first with each group's few newest rows, and the unread count above the read
marker."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from feedsite.mastodon.models import Marker, MarkerTimeline
from feedsite.notifications.models import Kind, Mention, Notification, NotificationGroup
from graph.models import Account

UNREAD_MAX = 1000  # the unread count is exact up to this, then "at least"
SAMPLE_ACCOUNTS = 8  # Mastodon 4.3 shows up to 8 accounts per group


def kinds_filter(*, types: Iterable[str], exclude_types: Iterable[str]) -> Q:
    """Kinds asked for (all when ``types`` is empty) minus the excluded ones."""
    q = Q()
    types, exclude_types = list(types), list(exclude_types)
    if types:
        q &= Q(kind__in=types)
    if exclude_types:
        q &= ~Q(kind__in=exclude_types)
    return q


def notification_queryset(*, recipient: Account, kinds: Q | None = None) -> QuerySet[Notification]:
    """The recipient's notifications, with what rendering needs, deleted posts' left out
    (their rows go in the background, feedsite.notifications.tasks)."""
    qs = Notification.objects.filter(recipient=recipient).filter(
        Q(post__isnull=True) | Q(post__deleted_at__isnull=True)
    )
    if kinds is not None:
        qs = qs.filter(kinds)
    return qs.select_related("post", "comment")


def unread_count(*, recipient: Account) -> tuple[int, str | None]:
    """How many notifications are newer than the read marker (at most UNREAD_MAX), and it."""
    marker = Marker.objects.filter(account=recipient, timeline=MarkerTimeline.NOTIFICATIONS).first()
    last_read = marker.last_read_id if marker is not None else None
    qs = notification_queryset(recipient=recipient)
    if last_read is not None and last_read.isdigit():
        qs = qs.filter(pk__gt=int(last_read))
    return qs.order_by("-id")[:UNREAD_MAX].count(), last_read


def group_queryset(*, recipient: Account, kinds: Q | None = None) -> QuerySet[NotificationGroup]:
    qs = NotificationGroup.objects.filter(recipient=recipient, notifications_count__gt=0)
    return qs if kinds is None else qs.filter(kinds)


@dataclass(frozen=True, slots=True)
class GroupHead:
    """A group's newest notifications (newest first), at most SAMPLE_ACCOUNTS of them."""

    notifications: list[Notification]

    @property
    def latest(self) -> Notification:
        return self.notifications[0]


# Each group's newest rows through notification_group_newest: never the whole group.
_GROUP_HEADS_SQL = """
SELECT n.id
FROM unnest(%(keys)s::text[]) AS k(key)
CROSS JOIN LATERAL (
    SELECT id FROM notifications_notification
    WHERE recipient_id = %(recipient)s AND group_key = k.key
    ORDER BY id DESC LIMIT %(sample)s
) n
"""


def group_heads(*, recipient: Account, groups: Sequence[NotificationGroup]) -> dict[str, GroupHead]:
    """The newest notifications of each group: two queries for a page of groups."""
    keys = [group.group_key for group in groups]
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_GROUP_HEADS_SQL, {"keys": keys, "recipient": recipient.pk, "sample": SAMPLE_ACCOUNTS})
        ids = [row[0] for row in cursor.fetchall()]
    rows: dict[str, list[Notification]] = {}
    for notification in (
        Notification.objects.filter(pk__in=ids).select_related("post", "comment").order_by("-id")
    ):
        rows.setdefault(notification.group_key, []).append(notification)
    return {key: GroupHead(notifications=found) for key, found in rows.items()}


def mentions_of(*, post_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """The accounts each post's body mentions, (id, username): one query for a page."""
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    found: dict[int, list[tuple[int, str]]] = {}
    rows = Mention.objects.filter(post_id__in=ids, comment__isnull=True).order_by("id")
    for post_id, account_id, username in rows.values_list("post_id", "account_id", "account__username"):
        found.setdefault(post_id, []).append((account_id, username))
    return found


def kind_values() -> list[str]:
    return list(Kind.values)
