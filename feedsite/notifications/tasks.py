"""Notification tasks: ids only, a retry policy, one service each (services are imported in
the task bodies; feedsite.notifications.signals imports this module). Both may run twice:
creating is idempotent (one notification per event and recipient) and so is removing."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

RETRY_POLICY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
    "acks_late": True,
}


@shared_task(**RETRY_POLICY)
def notify(kind: str, source_id: int) -> int:
    """The notifications of one committed like, follow, share, comment or post."""
    from feedsite.notifications.services import notification_event

    return len(notification_event(kind=kind, source_id=source_id))


@shared_task(**RETRY_POLICY)
def post_notifications_remove(post_id: int) -> int:
    """A deleted post's notifications (as many as it had likes: off the request path)."""
    from feedsite.notifications.services import notifications_for_post_remove

    return notifications_for_post_remove(post_id=post_id)
