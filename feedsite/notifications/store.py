"""The two hand-written statements that keep NotificationGroup exact: insert notifications
and count them into their groups in one statement, and delete notifications then correct
their groups. Guarded by an oracle test (tests/notifications/test_groups.py) against a plain
recount."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from feedsite.notifications.models import Notification, NotificationGroup


@dataclass(frozen=True, slots=True)
class NewNotification:
    recipient_id: int
    kind: str
    actor_id: int
    post_id: int | None
    comment_id: int | None
    source_id: int
    group_key: str


_INSERT_VALUES = """
WITH n AS (
    INSERT INTO notifications_notification
        (recipient_id, kind, actor_id, post_id, comment_id, source_id, group_key, created_at)
    VALUES {values}
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id, group_key, kind
)"""
# A like's notification in one statement, in the like's own transaction (the burst path: no
# task to publish, docs/architecture.md#notifications), by the same rules as
# services._event_rows: not on your own post nor a deleted one, no block either way, not from
# an account the author muted.
_INSERT_FAVOURITE = """
WITH src AS (
    SELECT p.author_id AS recipient_id, l.user_id AS actor_id, p.id AS post_id
    FROM posts_like l JOIN posts_post p ON p.id = l.post_id
    WHERE l.id = %(like)s AND p.deleted_at IS NULL AND p.author_id <> l.user_id
      AND NOT EXISTS (SELECT 1 FROM graph_block b
                      WHERE (b.blocker_id = p.author_id AND b.blocked_id = l.user_id)
                         OR (b.blocker_id = l.user_id AND b.blocked_id = p.author_id))
      AND NOT EXISTS (SELECT 1 FROM graph_mute m WHERE m.muter_id = p.author_id AND m.muted_id = l.user_id)
), n AS (
    INSERT INTO notifications_notification
        (recipient_id, kind, actor_id, post_id, comment_id, source_id, group_key, created_at)
    SELECT recipient_id, 'favourite', actor_id, post_id, NULL, %(like)s, 'favourite-' || post_id, now()
    FROM src
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id, group_key, kind
)"""
# Counts the rows of ``n`` into their groups; both inserts end with it.
_INTO_GROUPS = """, g AS (
    INSERT INTO notifications_notificationgroup
        (recipient_id, group_key, kind, notifications_count, most_recent_id, updated_at)
    SELECT recipient_id, group_key, kind, 1, id, now() FROM n
    ON CONFLICT (recipient_id, group_key) DO UPDATE SET
        notifications_count = notifications_notificationgroup.notifications_count + 1,
        most_recent_id = GREATEST(notifications_notificationgroup.most_recent_id, EXCLUDED.most_recent_id),
        updated_at = now()
)
SELECT id, recipient_id FROM n
"""


def favourite_insert(*, like_id: int) -> list[tuple[int, int]]:
    """The notification of like ``like_id`` (none by the rules), counted into its group."""
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_FAVOURITE + _INTO_GROUPS, {"like": like_id})
        return [(row[0], row[1]) for row in cursor.fetchall()]


def notifications_insert(rows: Sequence[NewNotification]) -> list[tuple[int, int]]:
    """Insert ``rows`` (distinct recipients) and count each into its group; returns
    (notification id, recipient id) of the new ones (a replay inserts nothing)."""
    if not rows:
        return []
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, now())"] * len(rows))
    params = [
        value
        for row in rows
        for value in (
            row.recipient_id,
            row.kind,
            row.actor_id,
            row.post_id,
            row.comment_id,
            row.source_id,
            row.group_key,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_VALUES.format(values=values) + _INTO_GROUPS, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


_GROUP_FIX = """
UPDATE notifications_notificationgroup g
SET notifications_count = GREATEST(g.notifications_count - %(removed)s, 0),
    most_recent_id = COALESCE(
        (SELECT n.id FROM notifications_notification n
         WHERE n.recipient_id = g.recipient_id AND n.group_key = g.group_key
         ORDER BY n.id DESC LIMIT 1), 0),
    updated_at = now()
WHERE g.recipient_id = %(recipient)s AND g.group_key = %(key)s
"""


def notifications_delete(queryset) -> int:
    """Delete the notifications of ``queryset`` and correct their groups (emptied groups go);
    returns how many were deleted."""
    with transaction.atomic():
        doomed = list(queryset.values_list("id", "recipient_id", "group_key"))
        if not doomed:
            return 0
        deleted, _ = Notification.objects.filter(pk__in=[row[0] for row in doomed]).delete()
        removed = Counter((recipient, key) for _, recipient, key in doomed)
        with connection.cursor() as cursor:
            for (recipient, key), count in removed.items():
                cursor.execute(_GROUP_FIX, {"removed": count, "recipient": recipient, "key": key})
        NotificationGroup.objects.filter(
            recipient_id__in={recipient for recipient, _ in removed}, notifications_count__lte=0
        ).delete()
    return deleted
