"""Writes the Mastodon API adds to ours: a status post with its Idempotency-Key record, and read
markers. Posts, replies (our comments), likes, shares and graph changes go through
posts.services and graph.services, never around them."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from feedsite.mastodon.entities import COMMENT_PREFIX
from feedsite.mastodon.models import Marker, StatusIdempotencyKey
from graph.models import Account
from posts.models import Post
from posts.services import comment_create, post_create

IDEMPOTENCY_WINDOW = timedelta(hours=1)


def _remembered(*, author: Account, key: str) -> str | None:
    cutoff = timezone.now() - IDEMPOTENCY_WINDOW
    row = StatusIdempotencyKey.objects.filter(account=author, key=key, created_at__gte=cutoff).first()
    return None if row is None else row.status_id


def status_create(
    *, author: Account, text: str, in_reply_to: Post | None, idempotency_key: str | None
) -> str:
    """Post a status and return its Status id: a post, or with ``in_reply_to`` a comment on
    that post (Mastodon's replies are our comments, docs/mastodon.md#replies). With an
    ``idempotency_key`` seen from the same account within IDEMPOTENCY_WINDOW, nothing is
    posted and the first status's id is returned, also when two such requests race."""
    if idempotency_key is not None and (first := _remembered(author=author, key=idempotency_key)):
        return first
    try:
        with transaction.atomic():
            if in_reply_to is not None:
                status_id = f"{COMMENT_PREFIX}{comment_create(author=author, post=in_reply_to, body=text).id}"
            else:
                status_id = str(post_create(author=author, body=text).id)
            if idempotency_key is not None:
                cutoff = timezone.now() - IDEMPOTENCY_WINDOW
                # This account's expired keys, including an expired use of this one.
                StatusIdempotencyKey.objects.filter(account=author, created_at__lt=cutoff).delete()
                StatusIdempotencyKey.objects.create(account=author, key=idempotency_key, status_id=status_id)
    except IntegrityError:
        # A concurrent request with the same key committed first; ours rolled back whole.
        first = None if idempotency_key is None else _remembered(author=author, key=idempotency_key)
        if first is None:
            raise
        return first
    return status_id


def marker_set(*, account: Account, timeline: str, last_read_id: str) -> Marker:
    """Move a read marker; each move bumps its version (Mastodon's optimistic-locking counter)."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                marker, created = Marker.objects.select_for_update().get_or_create(
                    account=account, timeline=timeline, defaults={"last_read_id": last_read_id}
                )
                if not created:
                    marker.last_read_id = last_read_id
                    marker.version += 1
                    marker.save(update_fields=["last_read_id", "version", "updated_at"])
                return marker
        except IntegrityError:  # another device created it a moment ago: update that one
            if attempt:
                raise
    raise AssertionError("unreachable")
