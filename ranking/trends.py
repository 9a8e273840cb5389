"""Trending posts, the editorial feed (docs/architecture.md#editorial-feed-and-suggestions).

Invariants: PostgreSQL is the source of truth and the Redis key (``timelines.keys.trends_key``)
only a cache of ``trends_compute``'s answer: ``trends_refresh`` (the periodic task) overwrites
it, a read that finds it missing (or Redis unavailable) computes it from PostgreSQL. What a
viewer sees is decided at read time: moderation (TrendHide), deleted posts and the viewer's
blocks and mutes are filtered out on every read, so a hide is effective on the next read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from feedsite.db import prepared_cursor
from ranking.models import TrendHide, TrendsConfig
from ranking.snapshot import REDIS_ERRORS
from timelines.keys import trends_key
from timelines.public import FeedPost, get_store, visible_posts_by_ids

logger = logging.getLogger(__name__)
# The key outlives a few missed refreshes; past that a read rebuilds it from PostgreSQL.
TRENDS_TTL_SECONDS = 600
# Scored posts read per kept one, so the per-author cap and hides still leave enough.
OVERSCAN = 4

# Recent engagement per original post, decayed: the window's likes, comments and live shares,
# each weighted by kind and halved every half-life. Reads the (post, created_at) indexes'
# recent ends only; shares and hidden posts or accounts are left out.
_TRENDS_SQL = """
SELECT e.post_id, p.author_id,
       SUM(e.w * exp(%(rate)s * GREATEST(date_part('epoch', %(now)s - e.at), 0))) AS score
FROM (
    SELECT post_id, %(w_like)s::float8 AS w, created_at AS at FROM posts_like WHERE created_at >= %(since)s
    UNION ALL
    SELECT post_id, %(w_comment)s::float8, created_at FROM posts_comment WHERE created_at >= %(since)s
    UNION ALL
    SELECT repost_of_id, %(w_share)s::float8, created_at FROM posts_post
    WHERE repost_of_id IS NOT NULL AND deleted_at IS NULL AND created_at >= %(since)s
) e
JOIN posts_post p ON p.id = e.post_id AND p.deleted_at IS NULL AND p.repost_of_id IS NULL
JOIN graph_account a ON a.id = p.author_id AND a.is_active
WHERE NOT EXISTS (SELECT 1 FROM ranking_trendhide h WHERE h.post_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM ranking_trendhide h WHERE h.account_id = p.author_id)
GROUP BY e.post_id, p.author_id
ORDER BY score DESC, e.post_id DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class Trend:
    post_id: int
    author_id: int
    score: float


def cap_per_author(trends: Sequence[Trend], *, per_author: int, limit: int) -> list[Trend]:
    """The best ``limit`` trends with at most ``per_author`` posts by one author, order kept."""
    kept, counts = [], {}
    for trend in trends:
        if counts.get(trend.author_id, 0) < per_author:
            counts[trend.author_id] = counts.get(trend.author_id, 0) + 1
            kept.append(trend)
            if len(kept) == limit:
                break
    return kept


def trends_compute(*, config: TrendsConfig) -> list[Trend]:
    """Trending posts from PostgreSQL alone, best first: one query."""
    now = timezone.now()
    params = {
        "w_like": config.trend_like_weight,
        "w_comment": config.trend_comment_weight,
        "w_share": config.trend_share_weight,
        "rate": -math.log(2) / (config.trend_half_life_hours * 3600.0),
        "now": now,
        "since": now - timedelta(hours=config.trend_window_hours),
        "limit": config.trend_max_posts * OVERSCAN,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TRENDS_SQL, params)
        scored = [Trend(*row) for row in cursor.fetchall()]
    return cap_per_author(scored, per_author=config.trend_max_per_author, limit=config.trend_max_posts)


def trends_refresh() -> list[int]:
    """Recompute the trends and store them in Redis (the periodic task's service). Raises
    Redis errors, so the task retries."""
    ids = [t.post_id for t in trends_compute(config=TrendsConfig.load())]
    get_store().client.set(trends_key(), ",".join(map(str, ids)), ex=TRENDS_TTL_SECONDS)
    return ids


def trending_post_ids() -> list[int]:
    """The stored trends, best first; rebuilt from PostgreSQL (and stored again) when the key
    is missing. With Redis unavailable, computed from PostgreSQL for this read alone."""
    try:
        raw = get_store().client.get(trends_key())
    except REDIS_ERRORS as exc:
        logger.warning("trends unreadable from Redis, computed from PostgreSQL: %s", exc)
        return [t.post_id for t in trends_compute(config=TrendsConfig.cached())]
    if raw is None:
        try:
            return trends_refresh()
        except REDIS_ERRORS as exc:
            logger.warning("trends not stored in Redis: %s", exc)
            return [t.post_id for t in trends_compute(config=TrendsConfig.cached())]
    text = raw.decode() if isinstance(raw, bytes) else raw
    return [int(x) for x in text.split(",")] if text else []


# Raw and prepared: it runs on every trends read, where building it through the ORM cost more
# than running it (the same reason as the feed's queries, docs/performance.md).
_HIDDEN_SQL = f"""
SELECT post_id, account_id FROM {TrendHide._meta.db_table}
WHERE post_id = ANY(%(posts)s::bigint[]) OR account_id = ANY(%(authors)s::bigint[])
"""


def _hidden(*, post_ids: Sequence[int], author_ids: Sequence[int]) -> tuple[set[int], set[int]]:
    with prepared_cursor() as cursor:
        cursor.execute(_HIDDEN_SQL, {"posts": list(post_ids), "authors": list(author_ids)})
        pairs = cursor.fetchall()
    return {p for p, _ in pairs if p is not None}, {a for _, a in pairs if a is not None}


def trending_posts(*, viewer_id: int | None, post_ids: Sequence[int]) -> list[FeedPost]:
    """The posts among ``post_ids`` (trends, in that order) the viewer may see: not deleted,
    not hidden by moderation, not by an account blocked or muted either way. Two queries."""
    if not post_ids:
        return []
    by_id = {p.id: p for p in visible_posts_by_ids(viewer_id=viewer_id or 0, post_ids=post_ids)}
    hidden_posts, hidden_accounts = _hidden(
        post_ids=list(by_id), author_ids=list({p.author_id for p in by_id.values()})
    )
    return [
        by_id[i]
        for i in post_ids
        if i in by_id and i not in hidden_posts and by_id[i].author_id not in hidden_accounts
    ]


def trends_page(*, viewer_id: int | None, offset: int, limit: int) -> tuple[list[FeedPost], bool]:
    """One page of the trends: ``limit`` slots from ``offset`` of the current list (fewer posts
    when some are filtered for this viewer) and whether more slots follow."""
    ids = trending_post_ids()
    return trending_posts(viewer_id=viewer_id, post_ids=ids[offset : offset + limit]), offset + limit < len(
        ids
    )
