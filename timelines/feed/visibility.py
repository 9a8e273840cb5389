"""Who may appear in a viewer's feed, as SQL, and the feed's ids from PostgreSQL alone.

Visibility (deleted, unfollowed, blocked, muted) is decided by PostgreSQL when a page's posts
are loaded, whatever Redis still holds (docs/architecture.md#visibility). Feed pages are the
hottest read, and building their queries through the ORM cost far more CPU than PostgreSQL
spent running them (measured: see docs/performance.md), so the feed's queries are written by
hand from the fragments here; ``tests/timelines/feed`` checks them against plain-Python
definitions.
"""

from __future__ import annotations

from django.db import connection

from feedsite.db import prepared_cursor
from graph.models import Account
from posts.models import Post

# ``{author}`` is the column holding the author id; ``%(viewer)s`` the viewer. Two NOT EXISTS
# rather than NOT (A OR B), so PostgreSQL plans each as an anti-join (the same rule as
# graph.selectors.not_blocked_or_muted, which the other endpoints use).
_NOT_BLOCKED_OR_MUTED_SQL = """
NOT EXISTS (SELECT 1 FROM graph_mute WHERE muter_id = %(viewer)s AND muted_id = {author})
AND NOT EXISTS (
    SELECT 1 FROM graph_block
    WHERE (blocker_id = %(viewer)s AND blocked_id = {author})
       OR (blocker_id = {author} AND blocked_id = %(viewer)s)
)"""
# The viewer's own posts and their followees', minus muted and blocked accounts.
_IN_FEED_SQL = (
    """({author} = %(viewer)s
    OR EXISTS (SELECT 1 FROM graph_follow
               WHERE follower_id = %(viewer)s AND followee_id = {author}{fence}))
AND """
    + _NOT_BLOCKED_OR_MUTED_SQL
)


def in_feed_sql(author: str, *, probe: bool = False) -> str:
    """The condition "``author`` belongs in the viewer's feed". ``probe``: check the follow
    with one probe of follow_unique per row (``OFFSET 0`` stops PostgreSQL from hashing the
    subquery). For a page of a few dozen posts; otherwise the planner hashes all the viewer's
    follows first, which costs more for readers who follow many (measured: see
    docs/performance.md)."""
    return _IN_FEED_SQL.format(author=author, fence=" OFFSET 0" if probe else "")


def not_blocked_or_muted_sql(author: str) -> str:
    return _NOT_BLOCKED_OR_MUTED_SQL.format(author=author)


# The viewer's feed from PostgreSQL alone, newest first, as one backward walk of the posts'
# primary key filtered by the follow graph: fast when the viewer follows many accounts
# (matches are dense); see feed_post_ids_from_db for the other case.
_DENSE_FEED_SQL = (
    """
SELECT p.id FROM posts_post p
WHERE p.deleted_at IS NULL
  AND (%(delivery)s::text IS NULL OR p.delivery = %(delivery)s::text)
  AND (%(before)s::bigint IS NULL OR p.id < %(before)s::bigint)
  AND """
    + in_feed_sql("p.author_id")
    + """
ORDER BY p.id DESC
LIMIT %(limit)s
"""
)


# Up to this many followees, a feed is read from PostgreSQL author by author (a short index
# scan each on post_author_newest, then a merge): cost bounded by what the viewer follows.
# Beyond it, matches are dense enough that walking all posts newest-first finds them sooner.
PER_AUTHOR_SCAN_MAX_FOLLOWEES = 1_000

_PER_AUTHOR_FEED_SQL = (
    """
SELECT p.id
FROM (
    SELECT followee_id AS author_id FROM graph_follow WHERE follower_id = %(viewer)s
    UNION ALL SELECT %(viewer)s
) a
CROSS JOIN LATERAL (
    SELECT id FROM posts_post
    WHERE author_id = a.author_id AND deleted_at IS NULL
      AND (%(delivery)s::text IS NULL OR delivery = %(delivery)s::text)
      AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
    ORDER BY id DESC
    LIMIT %(limit)s
) p
WHERE """
    + not_blocked_or_muted_sql("a.author_id")
    + """
ORDER BY p.id DESC
LIMIT %(limit)s
"""
)


def feed_post_ids_from_db(
    *,
    viewer_id: int,
    limit: int,
    before_id: int | None = None,
    delivery: str | None = None,
    following_count: int | None = None,
    per_author: bool | None = None,
) -> list[int]:
    """Ids of the viewer's feed computed from PostgreSQL alone, newest first: rebuilds and
    scrolling past the cached window. Picks the plan whose cost does not grow with the size
    of the posts table for viewers who follow quiet accounts (the pure-pull trap). Pass the
    viewer's ``following_count`` when you have it, to save looking it up. ``per_author``
    forces a plan (True: per author, False: the backward walk); None chooses."""
    if per_author is None and following_count is None:
        following_count = (
            Account.objects.filter(id=viewer_id).values_list("following_count", flat=True).first() or 0
        )
    if per_author is None:
        per_author = following_count <= PER_AUTHOR_SCAN_MAX_FOLLOWEES
    sql = _PER_AUTHOR_FEED_SQL if per_author else _DENSE_FEED_SQL
    params = {"viewer": viewer_id, "limit": limit, "before": before_id, "delivery": delivery}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def author_post_ids(*, author_id: int, delivery: str, limit: int, include_deleted: bool = False) -> list[int]:
    """An author's newest post ids delivered one way: what their outbox holds (pull), what a
    new follower's timeline gains (push), or what an unfollow must take out (push, deleted
    ones too, since deletions are filtered at read time rather than chased through Redis)."""
    qs = Post.objects.filter(author_id=author_id, delivery=delivery)
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return list(qs.order_by("-id").values_list("id", flat=True)[:limit])


_PULL_AUTHORS_SQL = """
SELECT f.followee_id FROM graph_follow f JOIN graph_account a ON a.id = f.followee_id
WHERE f.follower_id = %(viewer)s AND a.has_pull_posts
"""


def pull_author_ids(*, viewer: Account) -> list[int]:
    """Accounts whose outboxes the viewer's feed merges: followees that have published in pull
    mode (few: the partial index account_pull_authors), and the viewer themselves if they
    have. Raw SQL: it runs on every feed page."""
    with prepared_cursor() as cursor:
        cursor.execute(_PULL_AUTHORS_SQL, {"viewer": viewer.id})
        ids = [row[0] for row in cursor.fetchall()]
    if viewer.has_pull_posts:
        ids.append(viewer.id)
    return ids
