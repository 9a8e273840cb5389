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


_INSERT = """
WITH n AS (
    INSERT INTO notifications_notification
        (recipient_id, kind, actor_id, post_id, comment_id, source_id, group_key, created_at)
    VALUES {values}
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id, group_key, kind
), g AS (
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
        cursor.execute(_INSERT.format(values=values), params)
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
