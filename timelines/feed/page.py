"""Assembling a page of a viewer's home feed (docs/architecture.md#read-path).

A page merges the viewer's timeline (pushed posts) with the outboxes of the pull-mode accounts
they follow; merged ids are exact down to the highest horizon among them, and the page goes on
from PostgreSQL below it. Which posts are shown is decided by PostgreSQL when they are loaded
(docs/architecture.md#visibility). When Redis is unavailable the page comes from PostgreSQL
alone, with the same posts and cursors (``degraded``).
"""

from __future__ import annotations

import bisect
import collections
import functools
import heapq
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from feedsite import metrics
from graph.models import Account
from timelines import local_cache, store
from timelines.feed import visibility
from timelines.feed.policy import reader_seen, timeline_ttl_ms
from timelines.feed.rebuild import outbox_rebuild, timeline_rebuild
from timelines.feed.rows import feed_posts_by_ids
from timelines.keys import outbox_key, timeline_key
from timelines.models import FeedConfig
from timelines.store import REDIS_UNAVAILABLE, CachedList

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedPage:
    posts: list  # what the page's ``load`` returns: FeedPost, or FeedEntry for ranking
    next_before: int | None  # cursor for the next page, None on the last page
    degraded: bool = False  # Redis was unavailable: the page came from PostgreSQL alone


def feed_page_from_db(
    *,
    viewer: Account,
    before_id: int | None,
    limit: int,
    load: Callable[..., Sequence] = feed_posts_by_ids,
) -> FeedPage:
    """The feed page from PostgreSQL alone, for when Redis is unavailable: the same posts and
    cursors as the cached path (both are "newest first, older than the cursor"), at the cost
    of the deep-scroll query on every page."""
    ids = visibility.feed_post_ids_from_db(
        viewer_id=viewer.id, following_count=viewer.following_count, before_id=before_id, limit=limit + 1
    )
    posts = load(viewer_id=viewer.id, post_ids=ids)
    next_before = posts[limit - 1].id if len(posts) > limit else None
    return FeedPage(posts=posts[:limit], next_before=next_before, degraded=True)


def _degrades_to_postgresql(func: Callable[..., FeedPage]) -> Callable[..., FeedPage]:
    """Serve the feed from PostgreSQL when Redis is down or times out, instead of failing."""

    @functools.wraps(func)
    def wrapper(*, viewer: Account, before_id: int | None, limit: int, **kwargs) -> FeedPage:
        try:
            return func(viewer=viewer, before_id=before_id, limit=limit, **kwargs)
        except REDIS_UNAVAILABLE as exc:
            logger.warning("feed for %s served from PostgreSQL: Redis unavailable (%s)", viewer.id, exc)
            return feed_page_from_db(viewer=viewer, before_id=before_id, limit=limit, **kwargs)

    return wrapper


@_degrades_to_postgresql
def feed_page(
    *,
    viewer: Account,
    before_id: int | None,
    limit: int,
    load: Callable[..., Sequence] = feed_posts_by_ids,
) -> FeedPage:
    """A page of the viewer's home feed, newest first, strictly older than ``before_id``.

    Sources: the viewer's timeline (pushed posts) and the outboxes of pull-mode accounts they
    follow. Merged ids are exact down to the highest horizon among the sources; the page's
    posts are loaded and filtered in bulk by PostgreSQL; if the cached window runs out before
    the page is full, the page continues from PostgreSQL. Typical cost: one SQL query for the
    pull-mode followees, one Redis round trip, one SQL query for the posts (and, once an hour
    per reader, one UPDATE recording that they read). ``load`` turns ids into visible
    entries: full posts by default; ranking passes a lighter loader.
    """
    started = time.perf_counter()
    config = FeedConfig.cached()
    seen = reader_seen(viewer=viewer, config=config)
    pull_ids = visibility.pull_author_ids(viewer=viewer)
    depth = None if before_id is not None else outbox_depth(limit)
    sources = _read_sources(viewer=viewer, pull_author_ids=pull_ids, config=config, depth=depth)
    if seen:
        ttl_ms = timeline_ttl_ms(config, last_read=viewer.last_feed_read_at)
        store.get_store().touch(key=timeline_key(viewer.id), ttl_ms=ttl_ms)
    horizon = max(source.horizon for source in sources)

    want = limit + 1  # one extra tells us whether there is a next page
    posts: list = []
    candidates = _merge_newest_first(sources, before_id=before_id, horizon=horizon)
    while len(posts) < want:
        missing = want - len(posts)
        # A few spare ids absorb filtered-out posts (deleted, muted...) without a second query.
        batch = [
            post_id for _, post_id in zip(range(missing + max(4, missing // 4)), candidates, strict=False)
        ]
        if not batch:
            break
        posts.extend(load(viewer_id=viewer.id, post_ids=batch))

    if len(posts) < want and horizon > 0:
        # Past the cached window: continue from PostgreSQL (deep scroll).
        floor = horizon if before_id is None else min(horizon, before_id)
        ids = visibility.feed_post_ids_from_db(
            viewer_id=viewer.id,
            following_count=viewer.following_count,
            before_id=floor,
            limit=want - len(posts),
        )
        posts.extend(load(viewer_id=viewer.id, post_ids=ids))

    next_before = posts[limit - 1].id if len(posts) > limit else None
    metrics.FEED_PULLS.observe(len(pull_ids))
    metrics.FEED_REQUEST_SECONDS.labels(pulls="yes" if pull_ids else "no").observe(
        time.perf_counter() - started
    )
    return FeedPage(posts=posts[:limit], next_before=next_before)


def outbox_depth(limit: int) -> int:
    """How many of each outbox's newest ids a first page reads: what its first batch of
    candidates can take, twice over, so posts filtered out rarely send it to PostgreSQL."""
    want = limit + 1
    return 2 * (want + max(4, want // 4))


def _read_sources(
    *, viewer: Account, pull_author_ids: Sequence[int], config: FeedConfig, depth: int | None = None
) -> list[CachedList]:
    """The viewer's timeline and the outboxes they pull, in that order: outboxes from this
    process's short-lived copy when it has them, the rest in one Redis round trip, and any
    missing list rebuilt (once, however many readers want it at the same moment). ``depth``:
    outboxes may be read down to their newest ``depth`` ids only (a first page; the merge's
    horizon then stops at the highest such head), instead of whole (a page below a cursor)."""
    keys = [timeline_key(viewer.id)] + [outbox_key(a) for a in pull_author_ids]
    sources: list[CachedList | None] = [None] * len(keys)
    wanted = [0]
    for index in range(1, len(keys)):
        local = local_cache.outboxes.get(keys[index], ttl_ms=config.outbox_cache_ms)
        if local is None or (local.truncated and (depth is None or len(local.ids) < depth)):
            wanted.append(index)
        else:
            sources[index] = local
    if local_hits := len(keys) - len(wanted):  # one metric update, not one per outbox
        metrics.TIMELINE_READS.labels(kind="outbox", result="local").inc(local_hits)
    depths = [None] + [depth] * (len(wanted) - 1)
    read = store.get_store().read_many([keys[i] for i in wanted], depths)
    results = collections.Counter()  # one metric update per kind and result, not per outbox
    for index, source in zip(wanted, read, strict=True):
        kind = "timeline" if index == 0 else "outbox"
        results[kind, "miss" if source is None else "hit"] += 1
        if source is None:
            if index == 0:
                source = timeline_rebuild(
                    user_id=viewer.id, last_read=viewer.last_feed_read_at, config=config
                )
            else:
                source = outbox_rebuild(author_id=pull_author_ids[index - 1], config=config)
        if index and config.outbox_cache_ms:
            local_cache.outboxes.put(keys[index], source)
        sources[index] = source
    for (kind, result), count in results.items():
        metrics.TIMELINE_READS.labels(kind=kind, result=result).inc(count)
    return sources  # type: ignore[return-value]  # every slot is filled above


def _merge_newest_first(
    sources: Sequence[CachedList], *, before_id: int | None, horizon: int
) -> Iterator[int]:
    """Distinct ids from all sources, newest first, below ``before_id`` and not below the
    horizon. Lazy: a page consumes only what it needs."""
    trimmed = []
    for source in sources:
        ids = source.ids
        if before_id is not None:
            # ids are descending: skip those >= before_id.
            ids = ids[bisect.bisect_left(ids, -before_id + 1, key=lambda x: -x) :]
        trimmed.append(ids)
    previous = None
    for post_id in heapq.merge(*trimmed, reverse=True):
        if post_id < horizon:
            return
        if post_id != previous:
            previous = post_id
            yield post_id


# How many ids below the cached window a newer-than page looks at in PostgreSQL: the gap
# between a client's newest post and the window's horizon (docs/architecture.md#read-path).
NEWER_DB_SCAN = 400


def feed_page_newer(
    *,
    viewer: Account,
    after_id: int,
    limit: int,
    oldest_first: bool,
    before_id: int | None = None,
    load: Callable[..., Sequence] = feed_posts_by_ids,
) -> FeedPage:
    """A page of the viewer's feed strictly newer than ``after_id`` (and older than
    ``before_id``), newest first in the page: with ``oldest_first`` the posts immediately
    above ``after_id`` (Mastodon's ``min_id``), otherwise the newest ones (``since_id``).

    Same sources and filters as ``feed_page``; ids between ``after_id`` and the horizon of a
    trimmed window come from PostgreSQL (at most NEWER_DB_SCAN of them). ``next_before`` is
    set (to the page's oldest id) when more posts lie beyond the page in the direction of
    selection: older ones above ``after_id`` for since_id, newer ones for min_id."""
    degraded, ids, floor = False, [], before_id
    try:
        config = FeedConfig.cached()
        seen = reader_seen(viewer=viewer, config=config)
        pull_ids = visibility.pull_author_ids(viewer=viewer)
        sources = _read_sources(viewer=viewer, pull_author_ids=pull_ids, config=config)
        if seen:  # a read like feed_page's: keeps the timeline alive
            ttl_ms = timeline_ttl_ms(config, last_read=viewer.last_feed_read_at)
            store.get_store().touch(key=timeline_key(viewer.id), ttl_ms=ttl_ms)
        horizon = max(source.horizon for source in sources)
        for post_id in _merge_newest_first(sources, before_id=before_id, horizon=horizon):
            if post_id <= after_id:
                break
            ids.append(post_id)
        floor = horizon if before_id is None else min(horizon, before_id)
        scan_db = horizon > after_id
    except REDIS_UNAVAILABLE as exc:
        logger.warning("newer feed for %s served from PostgreSQL: Redis unavailable (%s)", viewer.id, exc)
        degraded, scan_db = True, True
    if scan_db:
        below = visibility.feed_post_ids_from_db(
            viewer_id=viewer.id, following_count=viewer.following_count, before_id=floor, limit=NEWER_DB_SCAN
        )
        ids.extend(post_id for post_id in below if post_id > after_id)

    order = list(reversed(ids)) if oldest_first else ids
    posts: list = []
    start = 0
    while len(posts) <= limit and start < len(order):
        batch = order[start : start + limit + 1 + max(4, limit // 4)]
        start += len(batch)
        loaded = load(viewer_id=viewer.id, post_ids=batch)
        posts.extend(reversed(loaded) if oldest_first else loaded)
    page = sorted(posts[:limit], key=lambda post: post.id, reverse=True)
    # More visible posts lie beyond the page in the direction of selection: older ones for
    # since_id, newer ones for min_id.
    next_before = page[-1].id if len(posts) > limit else None
    return FeedPage(posts=page, next_before=next_before, degraded=degraded)
