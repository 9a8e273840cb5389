"""The feed's rows: the visible posts among a page's ids, as ``FeedPost`` (what the renderer,
posts.serializers.feed_posts_data, shows) or ``FeedEntry`` (plain values for ranking).

One query per page, and the same filters as the feed itself (docs/architecture.md#visibility):
PostgreSQL decides what a viewer may see at load time, whatever the cached lists hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedsite.db import prepared_cursor
from timelines.feed.visibility import in_feed_sql, not_blocked_or_muted_sql

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
    + not_blocked_or_muted_sql("o.author_id")
    + """))
  AND (NOT %(dedup)s::boolean OR (p.repost_of_id IS NULL AND p.share_count = 0) OR NOT EXISTS (
      SELECT 1 FROM posts_post s
      WHERE s.repost_of_id = COALESCE(p.repost_of_id, p.id) AND s.id > p.id AND s.deleted_at IS NULL
        AND """
    + in_feed_sql("s.author_id")
    + """))
ORDER BY p.id DESC
"""
)

_LIKED_SQL = "EXISTS (SELECT 1 FROM posts_like WHERE user_id = %(viewer)s AND post_id = {post})"
_POST_COLUMNS = f"""p.id, p.author_id, pa.username, p.body, p.media_urls, p.created_at, p.delivery,
       p.like_count, p.comment_count, p.share_count, {_LIKED_SQL.format(post="p.id")}, p.repost_of_id,
       o.author_id, oa.username, o.body, o.media_urls, o.created_at, o.delivery,
       o.like_count, o.comment_count, o.share_count, {_LIKED_SQL.format(post="o.id")}"""
_POST_JOINS = """JOIN graph_account pa ON pa.id = p.author_id
LEFT JOIN graph_account oa ON oa.id = o.author_id"""
# A page checks a few dozen posts: one follow probe each (see in_feed_sql).
_FEED_POSTS_SQL = _FEED_ROWS_SQL.format(
    in_feed=in_feed_sql("p.author_id", probe=True), columns=_POST_COLUMNS, joins=_POST_JOINS
)
# Posts outside the viewer's follows (trends): only the block and mute filters.
_VISIBLE_POSTS_SQL = _FEED_ROWS_SQL.format(
    in_feed=not_blocked_or_muted_sql("p.author_id"), columns=_POST_COLUMNS, joins=_POST_JOINS
)
# Ranking checks hundreds of candidates: the planner may hash the follows instead.
_FEED_ENTRIES_SQL = _FEED_ROWS_SQL.format(
    in_feed=in_feed_sql("p.author_id"),
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
    return _as_posts(_feed_rows(_FEED_POSTS_SQL, viewer_id=viewer_id, post_ids=post_ids, dedup=dedup))


def _as_posts(rows: Sequence[tuple]) -> list[FeedPost]:
    posts = []
    for row in rows:
        original = FeedPost(row[11], *row[12:]) if row[11] is not None else None
        posts.append(FeedPost(*row[:11], repost_of_id=row[11], repost_of=original))
    return posts


def visible_posts_by_ids(*, viewer_id: int, post_ids: Sequence[int]) -> list[FeedPost]:
    """As feed_posts_by_ids without the follow condition (no de-duplication): the undeleted
    posts among ``post_ids`` by accounts the viewer has not blocked, muted or been blocked
    by, newest first. For posts shown outside the home feed (trends); viewer 0: anonymous."""
    return _as_posts(_feed_rows(_VISIBLE_POSTS_SQL, viewer_id=viewer_id, post_ids=post_ids, dedup=False))


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
