"""Rebuilding a missing timeline or outbox from PostgreSQL: once, however many readers want
it at the same moment (single flight), without losing posts fanned out meanwhile
(docs/architecture.md#read-path). A rebuilt list expires as ``policy.py`` says; the timeline
of a reader inactive for ``inactive_days`` is served uncached and never written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from feedsite import metrics
from posts.models import Delivery
from timelines import local_cache, store
from timelines.feed import visibility
from timelines.feed.policy import outbox_ttl_ms, timeline_ttl_ms
from timelines.keys import outbox_key, timeline_key
from timelines.models import FeedConfig
from timelines.store import CachedList, ListState

logger = logging.getLogger(__name__)

REBUILD_ATTEMPTS = 3


def _rebuild(
    *,
    key: str,
    kind: str,
    fetch_ids: Callable[[int], list[int]],
    ttl_ms: Callable[[], int],
    cap: int | None,
    force: bool,
    config: FeedConfig,
) -> CachedList:
    """Rebuild one list from PostgreSQL without losing posts fanned out meanwhile, once
    however many readers ask at the same moment (single flight).

    Order matters: the BUILDING marker goes in before PostgreSQL is read, so any post that
    commits after the read has its fan-out land in the marked list (fan-out runs only after
    commit), and the final write keeps it. Placing the marker is atomic and tells us whether
    we placed it: only that caller rebuilds; the others wait up to ``wait_ms`` for its result,
    then serve PostgreSQL's answer uncached rather than pile onto the database and the key.
    If the list vanishes mid-way (Redis flushed), those fan-outs were dropped, so we start
    over; after a few tries we serve PostgreSQL's answer uncached. ``force`` drops the cached
    list first (repairs: ``rebuild_timelines``). ``ttl_ms`` gives the list's expiry, asked
    when it is written; a list whose expiry has already passed (the timeline of a reader
    inactive for ``inactive_days``) is served uncached and never written.
    """
    cap = config.timeline_length if cap is None else cap
    wait_ms = config.rebuild_wait_ms
    lists = store.get_store()
    if force:
        lists.discard(key=key)
    attempts = REBUILD_ATTEMPTS if ttl_ms() > 0 else 0
    for _ in range(attempts):
        if not lists.rebuild_begin(key=key):
            state, cached = _await_rebuild(key=key, wait_ms=wait_ms)
            if cached is not None:
                metrics.TIMELINE_REBUILDS.labels(kind=kind, outcome="waited").inc()
                return cached
            if state is ListState.MISSING:
                continue  # the other rebuilder's list vanished: try to rebuild it ourselves
            break  # still being rebuilt after wait_ms: do not pile on
        started = time.perf_counter()
        ids, complete = _fetch(fetch_ids, cap)
        # The expiry is set in the same script as the list, so no crash leaves it unset.
        if lists.rebuild_finish(key=key, post_ids=ids, cap=cap, complete=complete, ttl_ms=ttl_ms()):
            seconds = time.perf_counter() - started
            metrics.TIMELINE_REBUILDS.labels(kind=kind, outcome="built").inc()
            metrics.TIMELINE_REBUILD_SECONDS.labels(kind=kind).observe(seconds)
            logger.info(
                "rebuilt %s: %d ids, complete=%s",
                key,
                len(ids),
                complete,
                extra={
                    "event": "rebuild",
                    "key": key,
                    "kind": kind,
                    "ids": len(ids),
                    "complete": complete,
                    "ms": round(seconds * 1000, 2),
                },
            )
            return CachedList(ids=ids, complete=complete)
    ids, complete = _fetch(fetch_ids, cap)
    metrics.TIMELINE_REBUILDS.labels(kind=kind, outcome="uncached").inc()
    if attempts:
        logger.warning(
            "served %s from PostgreSQL uncached: it is being rebuilt elsewhere or keeps vanishing",
            key,
            extra={"event": "rebuild_uncached", "key": key, "kind": kind},
        )
    return CachedList(ids=ids, complete=complete)


def _fetch(fetch_ids: Callable[[int], list[int]], cap: int) -> tuple[list[int], bool]:
    ids = fetch_ids(cap + 1)
    return ids[:cap], len(ids) <= cap


def _await_rebuild(*, key: str, wait_ms: int) -> tuple[ListState, CachedList | None]:
    """Wait for another caller's rebuild of ``key``: polls one O(1) command with backoff."""
    lists = store.get_store()
    deadline = time.monotonic() + wait_ms / 1000
    pause = 0.005
    while True:
        state = lists.state(key)
        if state is ListState.BUILT:
            cached = lists.read(key)
            if cached is not None:
                return state, cached
        elif state is ListState.MISSING:
            return state, None
        if time.monotonic() >= deadline:
            return state, None
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.05)


def timeline_rebuild(
    *,
    user_id: int,
    last_read: datetime | None,
    cap: int | None = None,
    force: bool = False,
    config: FeedConfig | None = None,
) -> CachedList:
    """Rebuild a home timeline: the newest pushed posts of the user and their followees.
    ``last_read`` is the user's ``last_feed_read_at``, which bounds the timeline's expiry
    (timeline_ttl_ms): a user who has not read for ``inactive_days`` gets no cached timeline."""
    config = config or FeedConfig.load()

    def fetch(limit: int) -> list[int]:
        return visibility.feed_post_ids_from_db(viewer_id=user_id, limit=limit, delivery=Delivery.PUSH)

    def ttl_ms() -> int:
        return timeline_ttl_ms(config, last_read=last_read)

    key = timeline_key(user_id)
    return _rebuild(
        key=key, kind="timeline", fetch_ids=fetch, ttl_ms=ttl_ms, cap=cap, force=force, config=config
    )


def timeline_repair(*, user_id: int, last_read: datetime | None, config: FeedConfig) -> bool:
    """Replace a cached timeline with PostgreSQL's answer (``rebuild_timelines``). Returns
    whether it is cached afterwards: the timeline of a reader inactive for ``inactive_days``
    is dropped instead, as its expiry would have dropped it (timeline_ttl_ms)."""
    timeline_rebuild(user_id=user_id, last_read=last_read, force=True, config=config)
    return store.get_store().state(timeline_key(user_id)) is ListState.BUILT


def outbox_rebuild(
    *, author_id: int, cap: int | None = None, force: bool = False, config: FeedConfig | None = None
) -> CachedList:
    """Rebuild an author's outbox: their newest pull-delivered posts."""
    config = config or FeedConfig.load()

    def fetch(limit: int) -> list[int]:
        return visibility.author_post_ids(author_id=author_id, delivery=Delivery.PULL, limit=limit)

    def ttl_ms() -> int:
        return outbox_ttl_ms(config)

    key = outbox_key(author_id)
    local_cache.outboxes.invalidate(key)
    return _rebuild(
        key=key, kind="outbox", fetch_ids=fetch, ttl_ms=ttl_ms, cap=cap, force=force, config=config
    )
