"""Ranking features, loaded in bulk: two SQL queries per ranked request whatever the number of
candidates (asserted in tests/ranking). Both are aggregated by PostgreSQL and bounded by
indexes and windows, so their cost does not grow with a post's lifetime engagement or with a
viewer's whole history."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from ranking.models import RankingConfig

# Engagement older than this many half-lives adds less than 1% of a fresh one: not read.
ENGAGEMENT_WINDOW_HALF_LIVES = 7
# The viewer's most recent interactions of each kind that feed affinity (and cold start).
AFFINITY_MAX_PER_KIND = 1_000

_ENGAGEMENT_SQL = """
SELECT post_id, SUM(w * exp(%(rate)s * GREATEST(date_part('epoch', %(now)s - at), 0)))
FROM (
    SELECT post_id, %(w_like)s::float8 AS w, created_at AS at
    FROM posts_like WHERE post_id = ANY(%(ids)s::bigint[]) AND created_at >= %(since)s
    UNION ALL
    SELECT post_id, %(w_comment)s::float8, created_at
    FROM posts_comment WHERE post_id = ANY(%(ids)s::bigint[]) AND created_at >= %(since)s
    UNION ALL
    SELECT repost_of_id, %(w_share)s::float8, created_at
    FROM posts_post
    WHERE repost_of_id = ANY(%(ids)s::bigint[]) AND deleted_at IS NULL AND created_at >= %(since)s
) e
GROUP BY post_id
"""

_AFFINITY_SQL = """
SELECT author_id, SUM(w), COUNT(*)
FROM (
    (SELECT p.author_id, %(w_like)s::float8 AS w
     FROM posts_like l JOIN posts_post p ON p.id = l.post_id
     WHERE l.user_id = %(viewer)s AND l.created_at >= %(since)s
     ORDER BY l.created_at DESC LIMIT %(cap)s)
    UNION ALL
    (SELECT p.author_id, %(w_comment)s::float8
     FROM posts_comment c JOIN posts_post p ON p.id = c.post_id
     WHERE c.author_id = %(viewer)s AND c.created_at >= %(since)s
     ORDER BY c.created_at DESC LIMIT %(cap)s)
    UNION ALL
    (SELECT o.author_id, %(w_share)s::float8
     FROM posts_post s JOIN posts_post o ON o.id = s.repost_of_id
     WHERE s.author_id = %(viewer)s AND s.repost_of_id IS NOT NULL AND s.deleted_at IS NULL
       AND s.created_at >= %(since)s
     ORDER BY s.id DESC LIMIT %(cap)s)
) a
GROUP BY author_id
"""


@dataclass(frozen=True)
class Affinity:
    by_author: dict[int, float]
    interactions: int


def _weights(config: RankingConfig) -> dict[str, float]:
    return {
        "w_like": config.rank_like_weight,
        "w_comment": config.rank_comment_weight,
        "w_share": config.rank_share_weight,
    }


def engagement_by_post(*, post_ids: Sequence[int], now: datetime, config: RankingConfig) -> dict[int, float]:
    """Post id -> its likes, comments and live shares, weighted by kind and halved every
    engagement half-life: recent engagement counts more. One query."""
    if not post_ids:
        return {}
    half_life_s = config.rank_engagement_half_life_hours * 3600.0
    params = {
        **_weights(config),
        "ids": list(post_ids),
        "now": now,
        # 0.5 ** (age / half-life) as exp(rate * age) in float8: numeric power() is ~50x slower.
        "rate": -math.log(2) / half_life_s,
        "since": now - timedelta(seconds=half_life_s * ENGAGEMENT_WINDOW_HALF_LIVES),
    }
    with connection.cursor() as cursor:
        cursor.execute(_ENGAGEMENT_SQL, params)
        return {post_id: float(value) for post_id, value in cursor.fetchall()}


def viewer_affinity(*, viewer_id: int, now: datetime, config: RankingConfig) -> Affinity:
    """Author id -> the viewer's weighted likes, comments and shares of that author's posts
    within the affinity window (at most the newest 1,000 of each kind). One query."""
    params = {
        **_weights(config),
        "viewer": viewer_id,
        "since": now - timedelta(days=config.rank_affinity_days),
        "cap": AFFINITY_MAX_PER_KIND,
    }
    with connection.cursor() as cursor:
        cursor.execute(_AFFINITY_SQL, params)
        rows = cursor.fetchall()
    return Affinity(
        by_author={author_id: float(total) for author_id, total, _ in rows},
        interactions=sum(count for _, _, count in rows),
    )
