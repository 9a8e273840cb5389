"""PostgreSQL reads for timelines: who receives a post, what a feed should contain, and which
posts a viewer may see. PostgreSQL is the source of truth; Redis only caches these answers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, connections, router
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from feedsite.db_router import replica_configured, replica_reads
from graph.models import Account, FanoutMode, Follow
from graph.selectors import not_blocked_or_muted
from posts.models import Delivery, Post
from posts.selectors import shown_originals
from timelines.models import FeedConfig

# What a feed page renders (a post, and for a share its original); leaves out e.g. the
# author's password hash.
_RENDERED = (
    "id",
    "author_id",
    "body",
    "media_urls",
    "created_at",
    "delivery",
    "like_count",
    "comment_count",
    "share_count",
    "author__id",
    "author__username",
)
POST_FIELDS = (*_RENDERED, "repost_of_id", *(f"repost_of__{field}" for field in _RENDERED))


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

_FOLLOWER_PAGE_SQL = """
SELECT f.id, f.follower_id FROM graph_follow f
WHERE f.followee_id = %(author)s AND f.id > %(after)s
ORDER BY f.id
LIMIT %(page)s
"""
# Activity by one primary-key probe per follower (a correlated scalar subquery, which
# PostgreSQL cannot turn into a hash join): cost bounded by the author's followers. A join or
# EXISTS let the planner scan and hash the whole account table instead (80-100 ms per
# 10,000-follower fan-out with 120,000 accounts in make bench, and growing with every signup).
_ACTIVE_FOLLOWER_PAGE_SQL = """
SELECT f.id, f.follower_id,
       (SELECT a.last_feed_read_at FROM graph_account a WHERE a.id = f.follower_id) >= %(since)s
FROM graph_follow f
WHERE f.followee_id = %(author)s AND f.id > %(after)s
ORDER BY f.id
LIMIT %(page)s
"""


def follower_id_batches(
    *, author_id: int, batch_size: int, active_since: datetime | None = None
) -> Iterator[list[int]]:
    """The author's follower ids in batches of ``batch_size``, read in keyset-paginated pages
    (index-only scan on ``follow_followers``); never an OFFSET, so each page costs the same.
    With ``active_since``, only followers who read their feed since then (a primary-key lookup
    per follower): the others' timelines have expired or are rebuilt on their next read.
    Raw SQL: building ORM rows cost more than the query for 10,000 followers."""
    page = max(batch_size, FOLLOWER_PAGE)
    sql = _FOLLOWER_PAGE_SQL if active_since is None else _ACTIVE_FOLLOWER_PAGE_SQL
    last_edge_id = 0
    pending: list[int] = []
    while True:
        with replica_reads():  # the read replica, when configured (feedsite.db_router)
            alias = router.db_for_read(Follow)
        with connections[alias].cursor() as cursor:
            params = {"author": author_id, "after": last_edge_id, "page": page, "since": active_since}
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if rows:
            last_edge_id = rows[-1][0]
        pending.extend(row[1] for row in rows if active_since is None or row[2])
        while len(pending) >= batch_size:
            yield pending[:batch_size]
            pending = pending[batch_size:]
        if len(rows) < page:
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


def visible_to(*, viewer_id: int) -> Q:
    """Posts the viewer may see in their feed: their own and their followees', minus accounts
    they muted, blocked, or were blocked by. Evaluated by PostgreSQL as semi-joins, so feed
    reads need no per-user sets in Python."""
    author = OuterRef("author_id")
    follows = Follow.objects.filter(follower_id=viewer_id, followee_id=author)
    followed_or_own = Q(author_id=viewer_id) | Q(Exists(follows))
    return followed_or_own & not_blocked_or_muted(viewer_id=viewer_id, author=author)


def _visible_feed_posts(*, viewer_id: int, post_ids: Sequence[int]) -> QuerySet[Post]:
    return (
        Post.objects.filter(id__in=post_ids, deleted_at__isnull=True)
        .filter(visible_to(viewer_id=viewer_id), shown_originals(viewer_id=viewer_id))
        .order_by("-id")
    )


def feed_posts_by_ids(*, viewer_id: int, post_ids: Sequence[int], dedup: bool = True) -> list[Post]:
    """Bulk-load the visible, undeleted posts among ``post_ids``, newest first: one query, and
    one more when a shared post is among them (see feed_dedup_shares; ``dedup=False`` for ids
    that were de-duplicated already). A share whose original is deleted, or by an account the
    viewer blocked, muted or was blocked by, is left out."""
    if not post_ids:
        return []
    posts = list(
        _visible_feed_posts(viewer_id=viewer_id, post_ids=post_ids)
        .select_related("author", "repost_of__author")
        .only(*POST_FIELDS)
    )
    return feed_dedup_shares(viewer_id=viewer_id, posts=posts) if dedup else posts


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """A feed entry as plain values, for code that needs many and renders none (ranking):
    building these costs a fraction of building Post instances. ``original_*`` describe the
    shared post for a share, and the entry itself otherwise."""

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
    if not post_ids:
        return []
    rows = _visible_feed_posts(viewer_id=viewer_id, post_ids=post_ids).values_list(
        "id",
        "author_id",
        "created_at",
        "delivery",
        "repost_of_id",
        "share_count",
        "media_urls",
        "like_count",
        "comment_count",
        "repost_of__author_id",
        "repost_of__media_urls",
        "repost_of__like_count",
        "repost_of__comment_count",
        "repost_of__share_count",
    )
    entries = []
    for row in rows:
        (id_, author, created, delivery, repost_of, shares, media, likes, comments, *original) = row
        if repost_of is not None:
            author_o, media_o, likes_o, comments_o, shares_o = original
        else:
            author_o, media_o, likes_o, comments_o, shares_o = author, media, likes, comments, shares
        entries.append(
            FeedEntry(
                id_,
                author,
                created,
                delivery,
                repost_of,
                shares,
                author_o,
                bool(media_o),
                likes_o,
                comments_o,
                shares_o,
            )
        )
    return feed_dedup_shares(viewer_id=viewer_id, posts=entries)


def feed_dedup_shares(*, viewer_id: int, posts: list) -> list:
    """Show each original once per feed, however many followees shared it: only at its newest
    entry (the original itself or a share) among the entries visible to the viewer.

    The rule depends on PostgreSQL's state only, not on which page is being read, so it holds
    across cursor pages: an entry older than the newest one for its original is dropped on
    every page, and the newest one, wherever it falls, is kept. One query, only for pages that
    hold a share or a post that has been shared."""
    originals = {p.repost_of_id or p.id for p in posts if p.repost_of_id is not None or p.share_count}
    if not originals:
        return posts
    newest = dict(
        Post.objects.filter(repost_of_id__in=originals, deleted_at__isnull=True)
        .filter(visible_to(viewer_id=viewer_id))
        .values("repost_of_id")
        .annotate(newest=Max("id"))
        .values_list("repost_of_id", "newest")
    )
    return [p for p in posts if newest.get(p.repost_of_id or p.id, p.id) == p.id]


def feed_posts_queryset(
    *, viewer_id: int, before_id: int | None = None, delivery: str | None = None
) -> QuerySet[Post]:
    """The viewer's feed from PostgreSQL alone, newest first, as one backward walk of the
    posts' primary key filtered by the follow graph. Fast when the viewer follows many
    accounts (matches are dense); see feed_post_ids_from_db for the other case."""
    qs = Post.objects.filter(deleted_at__isnull=True).filter(visible_to(viewer_id=viewer_id))
    if delivery is not None:
        qs = qs.filter(delivery=delivery)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    return qs.order_by("-id")


# Up to this many followees, a feed is read from PostgreSQL author by author (a short index
# scan each on post_author_newest, then a merge): cost bounded by what the viewer follows.
# Beyond it, matches are dense enough that walking all posts newest-first finds them sooner.
PER_AUTHOR_SCAN_MAX_FOLLOWEES = 1_000

_PER_AUTHOR_FEED_SQL = """
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
WHERE NOT EXISTS (SELECT 1 FROM graph_mute WHERE muter_id = %(viewer)s AND muted_id = a.author_id)
  AND NOT EXISTS (
      SELECT 1 FROM graph_block
      WHERE (blocker_id = %(viewer)s AND blocked_id = a.author_id)
         OR (blocker_id = a.author_id AND blocked_id = %(viewer)s)
  )
ORDER BY p.id DESC
LIMIT %(limit)s
"""


def feed_post_ids_from_db(
    *,
    viewer_id: int,
    limit: int,
    before_id: int | None = None,
    delivery: str | None = None,
    following_count: int | None = None,
) -> list[int]:
    """Ids of the viewer's feed computed from PostgreSQL alone, newest first: rebuilds and
    scrolling past the cached window. Picks the plan whose cost does not grow with the size
    of the posts table for viewers who follow quiet accounts (the pure-pull trap). Pass the
    viewer's ``following_count`` when you have it, to save looking it up."""
    if following_count is None:
        following_count = (
            Account.objects.filter(id=viewer_id).values_list("following_count", flat=True).first() or 0
        )
    if following_count > PER_AUTHOR_SCAN_MAX_FOLLOWEES:
        qs = feed_posts_queryset(viewer_id=viewer_id, before_id=before_id, delivery=delivery)
        return list(qs.values_list("id", flat=True)[:limit])
    params = {"viewer": viewer_id, "limit": limit, "before": before_id, "delivery": delivery}
    with connection.cursor() as cursor:
        cursor.execute(_PER_AUTHOR_FEED_SQL, params)
        return [row[0] for row in cursor.fetchall()]


def author_post_ids(*, author_id: int, delivery: str, limit: int, include_deleted: bool = False) -> list[int]:
    """An author's newest post ids delivered one way: what their outbox holds (pull), what a
    new follower's timeline gains (push), or what an unfollow must take out (push, deleted
    ones too, since deletions are filtered at read time rather than chased through Redis)."""
    qs = Post.objects.filter(author_id=author_id, delivery=delivery)
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return list(qs.order_by("-id").values_list("id", flat=True)[:limit])


def pull_author_ids(*, viewer: Account) -> list[int]:
    """Accounts whose outboxes the viewer's feed merges: followees that have published in pull
    mode, and the viewer themselves if they have."""
    ids = list(
        Follow.objects.filter(follower_id=viewer.id, followee__has_pull_posts=True).values_list(
            "followee_id", flat=True
        )
    )
    if viewer.has_pull_posts:
        ids.append(viewer.id)
    return ids
