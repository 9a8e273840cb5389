"""Accounts to follow (docs/architecture.md#editorial-feed-and-suggestions).

Invariants: never the viewer, an account they follow, one blocked or muted either way, a
dismissed one or an inactive one. Friends of friends read a bounded sample of the graph: the
viewer's newest ``FOLLOWS_SAMPLED`` follows, and each of those accounts' newest
``EDGES_PER_FOLLOW`` follows (so at most their product edges, whatever the graph's size); the
rest of the list is filled with popular active accounts: the most followed among the top
``POPULAR_SAMPLED`` with a post in the last ``ACTIVE_DAYS`` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from graph.models import Account, Dismissal

FOLLOWS_SAMPLED = 200
EDGES_PER_FOLLOW = 100
POPULAR_SAMPLED = 1_000
ACTIVE_DAYS = 30

_EXCLUDED_SQL = """
{account} <> %(viewer)s
AND NOT EXISTS (SELECT 1 FROM graph_follow WHERE follower_id = %(viewer)s AND followee_id = {account})
AND NOT EXISTS (SELECT 1 FROM graph_block WHERE blocker_id = %(viewer)s AND blocked_id = {account})
AND NOT EXISTS (SELECT 1 FROM graph_block WHERE blocker_id = {account} AND blocked_id = %(viewer)s)
AND NOT EXISTS (SELECT 1 FROM graph_mute WHERE muter_id = %(viewer)s AND muted_id = {account})
AND NOT EXISTS (SELECT 1 FROM graph_mute WHERE muter_id = {account} AND muted_id = %(viewer)s)
AND NOT EXISTS (SELECT 1 FROM graph_dismissal WHERE account_id = %(viewer)s AND dismissed_id = {account})
"""

# Weight: how many of the sampled followees follow the account.
_FRIENDS_OF_FRIENDS_SQL = (
    """
WITH mine AS (
    SELECT followee_id FROM graph_follow WHERE follower_id = %(viewer)s ORDER BY id DESC LIMIT %(follows)s
), fof AS (
    SELECT e.followee_id AS account_id, COUNT(*) AS weight
    FROM mine CROSS JOIN LATERAL (
        SELECT followee_id FROM graph_follow WHERE follower_id = mine.followee_id
        ORDER BY id DESC LIMIT %(edges)s
    ) e
    GROUP BY e.followee_id
)
SELECT fof.account_id, fof.weight FROM fof
JOIN graph_account a ON a.id = fof.account_id AND a.is_active
WHERE """
    + _EXCLUDED_SQL.format(account="fof.account_id")
    + """
ORDER BY fof.weight DESC, a.followers_count DESC, fof.account_id
LIMIT %(limit)s
"""
)

_POPULAR_SQL = (
    """
SELECT a.id, a.followers_count FROM (
    SELECT id, followers_count FROM graph_account WHERE is_active
    ORDER BY followers_count DESC LIMIT %(sampled)s
) a
WHERE (SELECT created_at FROM posts_post p WHERE p.author_id = a.id AND p.deleted_at IS NULL
       ORDER BY p.id DESC LIMIT 1) >= %(since)s
  AND """
    + _EXCLUDED_SQL.format(account="a.id")
    + """
ORDER BY a.followers_count DESC, a.id
LIMIT %(limit)s
"""
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    account_id: int
    source: str  # "friends_of_friends" or "most_followed"
    weight: int  # followees following it, or its followers


def _rows(sql: str, params: dict) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def suggestions_for(*, viewer: Account, limit: int) -> list[Suggestion]:
    """Up to ``limit`` accounts to follow, best first: friends of friends (for a viewer with
    follows), then popular active accounts. At most two queries."""
    found: list[Suggestion] = []
    if viewer.following_count:
        params = {"viewer": viewer.id, "follows": FOLLOWS_SAMPLED, "edges": EDGES_PER_FOLLOW, "limit": limit}
        found = [Suggestion(a, "friends_of_friends", w) for a, w in _rows(_FRIENDS_OF_FRIENDS_SQL, params)]
    if len(found) < limit:
        params = {
            "viewer": viewer.id,
            "sampled": POPULAR_SAMPLED,
            "since": timezone.now() - timedelta(days=ACTIVE_DAYS),
            "limit": limit,
        }
        seen = {s.account_id for s in found}
        popular = [Suggestion(a, "most_followed", w) for a, w in _rows(_POPULAR_SQL, params) if a not in seen]
        found += popular[: limit - len(found)]
    return found


def suggestion_dismiss(*, account: Account, dismissed_id: int) -> None:
    """Never suggest ``dismissed_id`` to ``account`` again (idempotent; unknown ids ignored,
    as Mastodon does)."""
    if dismissed_id == account.id or not Account.objects.filter(id=dismissed_id).exists():
        return
    try:
        with transaction.atomic():
            Dismissal.objects.get_or_create(account=account, dismissed_id=dismissed_id)
    except IntegrityError:  # a concurrent dismissal of the same account
        pass
