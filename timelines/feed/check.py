"""``check_feeds``'s backend: the feed as readers get it, compared with PostgreSQL's answer.

Exercises the whole read path (Redis, merges, rebuilds) through ``feed_page``; a difference is
a broken invariant (docs/architecture.md#timeline-store, docs/architecture.md#read-path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graph.models import Account
from timelines.feed.page import feed_page
from timelines.feed.visibility import feed_post_ids_from_db


class FeedCheckUnavailable(Exception):
    """Redis is unavailable, so there is no cached feed to check."""


@dataclass(frozen=True)
class FeedCheck:
    user_id: int
    checked: int  # how many ids PostgreSQL says the checked range holds
    missing: list[int]  # PostgreSQL has them, readers do not see them
    extra: list[int]  # readers see them, PostgreSQL says they do not belong
    duplicates: list[int]  # readers see them more than once

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicates)


def feed_check(*, viewer: Account, depth: int, before_id: int | None = None) -> FeedCheck:
    """Compare the newest ``depth`` posts of the viewer's feed, walked page by page through
    ``feed_page`` exactly as readers get it (Redis, merges, rebuilds), with the same range
    computed by PostgreSQL alone. ``before_id`` pins the range so posts arriving meanwhile
    do not count as differences."""
    expected = feed_post_ids_from_db(viewer_id=viewer.id, before_id=before_id, limit=depth)
    # When PostgreSQL has more than ``depth``, compare only down to its oldest id.
    floor = expected[-1] if len(expected) == depth else 0
    served: list[int] = []
    cursor = before_id
    while len(served) < 2 * depth:  # a bound even if pages misbehave
        page = feed_page(viewer=viewer, before_id=cursor, limit=min(100, depth))
        if page.degraded:
            raise FeedCheckUnavailable("Redis is unavailable: feeds are being served from PostgreSQL.")
        served.extend(post.id for post in page.posts)
        if page.next_before is None or (served and served[-1] < floor):
            break
        cursor = page.next_before
    counts = Counter(served)
    expected_set = set(expected)
    return FeedCheck(
        user_id=viewer.id,
        checked=len(expected),
        missing=[post_id for post_id in expected if post_id not in counts],
        extra=sorted({p for p in served if p >= floor and p not in expected_set}, reverse=True),
        duplicates=sorted(post_id for post_id, n in counts.items() if n > 1),
    )
