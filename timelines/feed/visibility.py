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


# The viewer's feed from PostgreSQL alone, newest first: three plans, chosen per call from the
# data (docs/architecture.md#read-path). Each answers exactly when it says it does; the caller
# falls through to the next otherwise.

# The walk: the newest posts of everyone, backwards along the primary key, filtered by the
# follow graph. Fast when the viewer's followees wrote a large share of the recent posts.
# ``%(scan)s`` bounds how many posts it looks at (NULL: all of them, the pure-pull walk).
_WALK_SQL = (
    """
SELECT p.id FROM (
    SELECT id, author_id, deleted_at, delivery FROM posts_post
    WHERE (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
    ORDER BY id DESC
    LIMIT %(scan)s
) p
WHERE p.deleted_at IS NULL
  AND (%(delivery)s::text IS NULL OR p.delivery = %(delivery)s::text)
  AND """
    + in_feed_sql("p.author_id")
    + """
ORDER BY p.id DESC
LIMIT %(limit)s
"""
)

# Per author, bounded by a floor taken from the data: the newest ``%(sample)s`` ids of each
# visible followee (index-only scans of post_author_newest) give a floor, the ``%(limit)s``-th
# highest of them, below which no answer can lie (at least ``%(limit)s`` posts are at or
# above it); then only the authors with a post at or above the floor are read, and only down
# to it. Exact for ids at or above the floor (returned with each row); it can come up short
# when deleted posts, the other delivery or hidden shares sat in the sample, and the caller
# then goes on below the floor.
_BOUNDED_PER_AUTHOR_SQL = (
    """
WITH a AS MATERIALIZED (
    SELECT author_id FROM (
        SELECT followee_id AS author_id FROM graph_follow WHERE follower_id = %(viewer)s
        UNION ALL SELECT %(viewer)s
    ) u
    WHERE """
    + not_blocked_or_muted_sql("u.author_id")
    + """
), sample AS MATERIALIZED (
    SELECT a.author_id, s.id FROM a CROSS JOIN LATERAL (
        SELECT id FROM posts_post
        WHERE author_id = a.author_id AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
        ORDER BY id DESC
        LIMIT %(sample)s
    ) s
), floor AS (
    SELECT COALESCE((SELECT id FROM sample ORDER BY id DESC OFFSET %(limit)s - 1 LIMIT 1), 0) AS id
)
SELECT p.id, floor.id
FROM floor
CROSS JOIN (SELECT DISTINCT author_id FROM sample, floor WHERE sample.id >= floor.id) n
CROSS JOIN LATERAL (
    SELECT id FROM posts_post
    WHERE author_id = n.author_id AND id >= floor.id AND deleted_at IS NULL
      AND (%(delivery)s::text IS NULL OR delivery = %(delivery)s::text)
      AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
    ORDER BY id DESC
    LIMIT %(limit)s
) p
ORDER BY p.id DESC
LIMIT %(limit)s
"""
)

# Per author, unbounded: each followee's newest ``%(limit)s`` posts, merged. Cost bounded by
# what the viewer follows, never by the size of the posts table; the last resort.
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

# The bounded walk looks at up to this many posts per account the viewer reads (followees and
# themselves): a post walked past costs a fraction of an author's pass (measured: see
# docs/performance.md), so a walk that comes up short costs at most about as much again. It is
# tried only when it could succeed with followees writing half the posts it looks at.
WALK_SCAN_PER_AUTHOR = 4
# A short walk walks on once if its yield says the rest fits in this many times its scan;
# above that, per-author passes are cheaper (docs/performance.md, "Read-path changes").
WALK_ON_BUDGET = 1
# The per-author pass samples this many times ``limit`` ids in all (at least one per author):
# enough that the floor is rarely far below the answer's lowest id.
SAMPLE_FACTOR = 2
# Bounded per-author passes before the unbounded one takes the rest.
BOUNDED_PASSES = 3


def _ids(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    scrolling past the cached window. The plan is chosen from the data (see the SQL above and
    docs/architecture.md#read-path), so its cost grows with neither the size of the posts
    table nor the number of followees' old posts. Pass the viewer's ``following_count`` when
    you have it, to save looking it up (it only sizes the plans). ``per_author`` forces one of
    the plain plans (True: per author, unbounded; False: the unbounded walk), for baselines."""
    params = {"viewer": viewer_id, "limit": limit, "before": before_id, "delivery": delivery}
    if per_author is not None:
        sql = _PER_AUTHOR_FEED_SQL if per_author else _WALK_SQL
        return [row[0] for row in _ids(sql, {**params, "scan": None})]
    if limit <= 0:
        return []
    if following_count is None:
        following_count = (
            Account.objects.filter(id=viewer_id).values_list("following_count", flat=True).first() or 0
        )
    authors = following_count + 1
    scan = WALK_SCAN_PER_AUTHOR * authors
    if scan >= 2 * limit:
        ids = [row[0] for row in _ids(_WALK_SQL, {**params, "scan": scan})]
        if len(ids) == limit:
            return ids
        # The walk's own yield is the statistic: at the density it found, the rest needs about
        # (limit - found) / density more posts. Walk on from the last id found (nothing in
        # feed lies between it and where the walk stopped) if that fits in WALK_ON_BUDGET
        # times the first walk; a quiet reader's walk finds nothing and goes per author.
        more = -(-(limit - len(ids)) * scan * 3 // (2 * len(ids))) if ids else None
        if more is not None and more <= WALK_ON_BUDGET * scan:
            rest = _ids(_WALK_SQL, {**params, "before": ids[-1], "limit": limit - len(ids), "scan": more})
            if len(ids) + len(rest) == limit:
                return ids + [row[0] for row in rest]
    ids = []
    for _ in range(BOUNDED_PASSES):
        want = limit - len(ids)
        sample = min(want, -(-SAMPLE_FACTOR * want // authors))
        rows = _ids(_BOUNDED_PER_AUTHOR_SQL, {**params, "limit": want, "sample": sample})
        ids.extend(row[0] for row in rows)
        floor = rows[0][1] if rows else None
        if len(ids) == limit or floor == 0:
            return ids  # full, or the floor was no floor: nothing older is left
        if floor is None:
            break  # nothing at or above an unknown floor: read on from where we are
        params["before"] = floor
    rows = _ids(_PER_AUTHOR_FEED_SQL, {**params, "limit": limit - len(ids)})
    return ids + [row[0] for row in rows]


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
