from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from graph.models import Block, Mute


def account_has_blocked(*, blocker_id: int, blocked_id: int) -> bool:
    return Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).exists()


def not_blocked_or_muted(*, viewer_id: int, author: OuterRef) -> Q:
    """Rows whose ``author`` did not block the viewer and was not blocked or muted by them: the
    one definition the feed, posts, shares and comments filter by. Two NOT EXISTS conditions
    rather than NOT (EXISTS OR EXISTS), so PostgreSQL plans each as an anti-join."""
    blocks = Block.objects.filter(
        Q(blocker_id=viewer_id, blocked_id=author) | Q(blocker_id=author, blocked_id=viewer_id)
    )
    mutes = Mute.objects.filter(muter_id=viewer_id, muted_id=author)
    return ~Q(Exists(blocks)) & ~Q(Exists(mutes))
