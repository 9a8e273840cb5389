"""PostgreSQL reads for timelines: who receives a post, what a feed should contain, and which
posts a viewer may see. PostgreSQL is the source of truth; Redis only caches these answers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, router

from feedsite.db import prepared_cursor
from feedsite.db_router import replica_configured, replica_reads
from graph.models import Account, FanoutMode, Follow
from posts.models import Delivery, Post
from timelines.models import FeedConfig


def account_is_celebrity(*, account: Account, config: FeedConfig) -> bool:
    """Auto mode with hysteresis: promoted at the threshold, demoted only below the lower
    bound; in between, the account keeps the state stored with its last post
    (``Account.celebrity``), so an account hovering at the line does not flap."""
    if account.followers_count >= config.celebrity_threshold:
        return True
    if account.followers_count < config.celebrity_demote_below:
        return False
    return account.celebrity


def account_fanout_mode(*, account: Account, config: FeedConfig) -> str:
    """The effective mode, ``push`` or ``pull``, for the account's next post."""
    if account.fanout_override != FanoutMode.AUTO:
        return account.fanout_override
    return FanoutMode.PULL if account_is_celebrity(account=account, config=config) else FanoutMode.PUSH


FANOUT_QUEUE = "fanout"
FANOUT_BULK_QUEUE = "fanout_bulk"


def fanout_queue(*, delivery: str, audience: int) -> str:
    """The Celery queue for a post's fan-out and its chunks: big push fan-outs get a queue
    (and workers) of their own, so small posts never wait behind them. A pull-mode post is
    one outbox write, however large its audience."""
    if delivery == Delivery.PUSH and audience >= settings.FANOUT_BULK_THRESHOLD:
        return FANOUT_BULK_QUEUE
    return FANOUT_QUEUE


# Follower ids read per query when fanning out (several chunks' worth: one short index-only
# scan is cheaper than many).
FOLLOWER_PAGE = 10_000

# One row holding the page as an array and its last edge id: psycopg decodes an int8[] in C,
# cheaper than building a Python row per follower (2.5 ms per 10,000). The page is the
# subquery's (ORDER BY id LIMIT), and max(id) its keyset bound, whatever order the array is
# in; array_agg(... ORDER BY id) would sort it again (+1.5 ms), so it is left to come out in
# index order, as it does with this plan, which only decides who gets a post first.
_FOLLOWER_PAGE_SQL = """
SELECT array_agg(f.follower_id), max(f.id) FROM (
    SELECT id, follower_id FROM graph_follow
    WHERE followee_id = %(author)s AND id > %(after)s
    ORDER BY id
    LIMIT %(page)s
) f
"""


def follower_id_batches(*, author_id: int, batch_size: int) -> Iterator[list[int]]:
    """The author's follower ids in batches of ``batch_size``, read in keyset-paginated pages
    (index-only scan on ``follow_followers``); never an OFFSET, so each page costs the same.
    Every follower, active or not: fan-out's LPUSHX skips those without a timeline, which is
    cheaper than asking PostgreSQL who is active. Raw SQL: building ORM rows cost more than
    the query for 10,000 followers."""
    page = max(batch_size, FOLLOWER_PAGE)
    last_edge_id = 0
    pending: list[int] = []
    while True:
        with replica_reads():  # the read replica, when configured (feedsite.db_router)
            alias = router.db_for_read(Follow)
        with prepared_cursor(alias) as cursor:  # binary: the int8[] needs no text parsing
            cursor.execute(_FOLLOWER_PAGE_SQL, {"author": author_id, "after": last_edge_id, "page": page})
            follower_ids, last = cursor.fetchone()
        follower_ids = follower_ids or []
        if follower_ids:
            last_edge_id = last
        pending.extend(follower_ids)
        while len(pending) >= batch_size:
            yield pending[:batch_size]
            pending = pending[batch_size:]
        if len(follower_ids) < page:
            if pending:
                yield pending
            return


def replica_has_post(*, post_id: int) -> bool:
    """Whether the read replica has replayed the post's commit, and so every follow committed
    before it: only then may fan-out read the follower list there. True without a replica."""
    if not replica_configured():
        return True
    with replica_reads():
        return Post.objects.filter(id=post_id).exists()


# -- who may appear in a feed, as SQL -------------------------------------------------------
# Feed pages are the hottest read: through the ORM a page spent ~8 ms of CPU building,
# compiling and instantiating its query against 0.3 ms inside PostgreSQL (make bench profile),
# so the feed's queries are written by hand, from these fragments. ``{author}`` is the column
# holding the author id; ``%(viewer)s`` the viewer. Two NOT EXISTS rather than NOT (A OR B),
# so PostgreSQL plans each as an anti-join (the same rule as graph.selectors.
# not_blocked_or_muted, which the other endpoints use).
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


def _in_feed(author: str, *, probe: bool = False) -> str:
    """``probe``: check the follow with one probe of follow_unique per row (``OFFSET 0`` stops
    PostgreSQL from hashing the subquery). For a page of a few dozen posts; otherwise the
    planner hashes all the viewer's follows first: 1.5 ms for a reader of 5,000, against
    0.3 ms for the whole page query with probes (make bench data, EXPLAIN ANALYZE)."""
    return _IN_FEED_SQL.format(author=author, fence=" OFFSET 0" if probe else "")


def _not_blocked_or_muted(author: str) -> str:
    return _NOT_BLOCKED_OR_MUTED_SQL.format(author=author)


# The visible, undeleted posts among %(ids)s, newest first. A share needs its original
# undeleted and by an account the viewer has not blocked, muted or been blocked by. With
# %(dedup)s, each original shows once per feed, at its newest visible entry (the original
# itself or a share): an entry is dropped when a visible share of the same original is newer.
# That depends on PostgreSQL's state only, not on the page being read, so it holds across
# cursor pages. Entries neither shared nor shares skip the check.
_FEED_ROWS_SQL = (
    """
SELECT {columns}
FROM posts_post p
LEFT JOIN posts_post o ON o.id = p.repost_of_id
{joins}
WHERE p.id = ANY(%(ids)s::bigint[]) AND p.deleted_at IS NULL
  AND {in_feed}
  AND (p.repost_of_id IS NULL OR (o.deleted_at IS NULL AND """
    + _not_blocked_or_muted("o.author_id")
    + """))
  AND (NOT %(dedup)s::boolean OR (p.repost_of_id IS NULL AND p.share_count = 0) OR NOT EXISTS (
      SELECT 1 FROM posts_post s
      WHERE s.repost_of_id = COALESCE(p.repost_of_id, p.id) AND s.id > p.id AND s.deleted_at IS NULL
        AND """
    + _in_feed("s.author_id")
    + """))
ORDER BY p.id DESC
"""
)

_LIKED_SQL = "EXISTS (SELECT 1 FROM posts_like WHERE user_id = %(viewer)s AND post_id = {post})"
# A page checks a few dozen posts: one follow probe each (see _in_feed).
_FEED_POSTS_SQL = _FEED_ROWS_SQL.format(
    in_feed=_in_feed("p.author_id", probe=True),
    columns=f"""p.id, p.author_id, pa.username, p.body, p.media_urls, p.created_at, p.delivery,
       p.like_count, p.comment_count, p.share_count, {_LIKED_SQL.format(post="p.id")}, p.repost_of_id,
       o.author_id, oa.username, o.body, o.media_urls, o.created_at, o.delivery,
       o.like_count, o.comment_count, o.share_count, {_LIKED_SQL.format(post="o.id")}""",
    joins="""JOIN graph_account pa ON pa.id = p.author_id
LEFT JOIN graph_account oa ON oa.id = o.author_id""",
)
# Ranking checks hundreds of candidates: the planner may hash the follows instead.
_FEED_ENTRIES_SQL = _FEED_ROWS_SQL.format(
    in_feed=_in_feed("p.author_id"),
    columns="""p.id, p.author_id, p.created_at, p.delivery, p.repost_of_id, p.share_count,
       COALESCE(o.author_id, p.author_id),
       COALESCE(cardinality(o.media_urls), cardinality(p.media_urls)) > 0,
       COALESCE(o.like_count, p.like_count), COALESCE(o.comment_count, p.comment_count),
       COALESCE(o.share_count, p.share_count)""",
    joins="",
)


def _feed_rows(sql: str, *, viewer_id: int, post_ids: Sequence[int], dedup: bool) -> list[tuple]:
    if not post_ids:
        return []
    with prepared_cursor() as cursor:
        cursor.execute(sql, {"viewer": viewer_id, "ids": list(post_ids), "dedup": dedup})
        return cursor.fetchall()


@dataclass(frozen=True, slots=True)
class FeedPost:
    """A feed entry with what the API shows of it (posts.serializers.feed_posts_data renders
    it as PostSerializer would a Post). ``repost_of`` is the original, for a share."""

    id: int
    author_id: int
    author_username: str
    body: str
    media_urls: list[str]
    created_at: datetime
    delivery: str
    like_count: int
    comment_count: int
    share_count: int
    liked_by_me: bool
    repost_of_id: int | None = None
    repost_of: FeedPost | None = None


def feed_posts_by_ids(*, viewer_id: int, post_ids: Sequence[int], dedup: bool = True) -> list[FeedPost]:
    """The visible, undeleted posts among ``post_ids``, newest first, each with its author,
    its original (for a share) and whether the viewer liked them: one query. ``dedup``: show
    each original once (see _FEED_ROWS_SQL); False for ids de-duplicated already. A share
    whose original is deleted, or by an account the viewer blocked, muted or was blocked by,
    is left out."""
    posts = []
    for row in _feed_rows(_FEED_POSTS_SQL, viewer_id=viewer_id, post_ids=post_ids, dedup=dedup):
        original = None
        if row[11] is not None:
            original = FeedPost(row[11], *row[12:])
        posts.append(FeedPost(*row[:11], repost_of_id=row[11], repost_of=original))
    return posts


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """A feed entry as plain values, for code that needs many and renders none (ranking).
    ``original_*`` describe the shared post for a share, and the entry itself otherwise."""

    id: int
    author_id: int
    created_at: datetime
    delivery: str
    repost_of_id: int | None
    share_count: int
    original_author_id: int
    original_has_media: bool
    original_like_count: int
    original_comment_count: int
    original_share_count: int


def feed_entries_by_ids(*, viewer_id: int, post_ids: Sequence[int]) -> list[FeedEntry]:
    """As feed_posts_by_ids (same filters, same de-duplication), as FeedEntry values."""
    return [
        FeedEntry(*row)
        for row in _feed_rows(_FEED_ENTRIES_SQL, viewer_id=viewer_id, post_ids=post_ids, dedup=True)
    ]


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
    + _in_feed("p.author_id")
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
    + _not_blocked_or_muted("a.author_id")
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
