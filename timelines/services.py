"""Every timeline operation lives here (Mastodon's feed_manager, in spirit): fan-out pushes,
outbox pushes, rebuilds from PostgreSQL, follow backfill, unfollow removal, and feed assembly.

Correctness rests on three rules:

1. Each post is delivered one way, fixed when it is created (``Post.delivery``): pushed into
   followers' timelines, or kept in the author's outbox for readers to pull. Readers merge
   both, so an author changing mode never loses or doubles a post.
2. A cached list is exact above its horizon (see ``timelines.store``); below it, the feed
   continues from PostgreSQL. Missing lists are rebuilt from PostgreSQL.
3. Visibility (deleted, unfollowed, blocked, muted) is decided by PostgreSQL when the page's
   posts are loaded, so it applies at once, whatever the cache still holds. Removing ids from
   Redis on unfollow/mute/block only keeps the lists dense.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import heapq
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from feedsite import metrics
from graph.models import Account
from posts.models import Delivery, FanoutState, Post
from timelines import local_cache, selectors
from timelines.models import FeedConfig, PendingChunk, StaleTimeline
from timelines.monitoring import fanout_stats_record
from timelines.store import (
    CachedList,
    ListState,
    TimelineStore,
    get_store,
    outbox_key,
    timeline_key,
    timeline_keys,
)

logger = logging.getLogger(__name__)

REBUILD_ATTEMPTS = 3
# Redis failures that mean "unavailable right now", as opposed to a bug in a command.
REDIS_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# A reader's last_feed_read_at is written at most this often (one UPDATE an hour per reader).
ACTIVITY_RESOLUTION = timedelta(hours=1)
# Expiries are jittered by up to this fraction, so lists built together expire apart.
EXPIRY_JITTER = 0.1


def timeline_ttl_ms(config: FeedConfig, *, last_read: datetime | None) -> int:
    """How long a reader's timeline may live from now: it expires within ``inactive_days`` of
    their last recorded read (``last_feed_read_at``), jittered downwards, so fan-out (LPUSHX,
    which never creates a list) cannot write the timeline of a reader inactive that long.
    0 or less when that moment has passed (or they never read): the list must not be kept."""
    if last_read is None:
        return 0
    window = timedelta(days=config.inactive_days) * (1 - EXPIRY_JITTER * random.random())
    return int((last_read + window - timezone.now()).total_seconds() * 1000)


def outbox_ttl_ms(config: FeedConfig) -> int:
    """A quiet author's outbox expires after the inactivity period, plus up to 10 % at random;
    each new post extends it."""
    seconds = timedelta(days=config.inactive_days).total_seconds()
    return int(seconds * 1000 * (1 + EXPIRY_JITTER * random.random()))


# -- write path ----------------------------------------------------------------------------


class ReplicaBehind(Exception):
    """The read replica lags behind a post's commit; the fan-out task retries shortly."""


@dataclass(frozen=True)
class FanoutPlan:
    post_id: int
    cap: int
    follower_batches: Iterator[list[int]]
    queue: str  # where the chunk tasks go (selectors.fanout_queue)
    # True when this post's fan-out ran before (a redelivered or re-run fanout_post): its
    # chunks may overlap ones already pushed, with other boundaries, so they deduplicate.
    replay: bool = False


def fanout_start(*, post_id: int) -> FanoutPlan | None:
    """Deliver a new post: a pull-mode post goes to its author's outbox and is done; a
    push-mode post goes to its author's own timeline at once and returns the follower batches
    for chunk tasks. Returns None when there is nothing (more) to do, including for a post
    that was deleted or never committed: a stale event is not an error."""
    post = (
        Post.objects.filter(id=post_id, deleted_at__isnull=True)
        .select_related("author")
        .only("author_id", "delivery", "author__followers_count")
        .first()
    )
    if post is None:
        return None
    config = FeedConfig.cached()  # its knobs (length, chunk size, expiry) apply within seconds
    store = get_store()
    log = {"event": "fanout_start", "post_id": post_id, "author_id": post.author_id}
    log["delivery"] = post.delivery
    if post.delivery == Delivery.PULL:
        key = outbox_key(post.author_id)
        added = store.insert(key=key, post_ids=[post_id], cap=config.timeline_length)
        local_cache.outboxes.invalidate(key)  # this process's readers see the post at once
        if added is None:
            # A cold outbox is built here, once, rather than by the first of the author's
            # many readers; the rebuild reads PostgreSQL, so it includes this post.
            outbox_rebuild(author_id=post.author_id, cap=config.timeline_length)
        else:
            store.touch(key=key, ttl_ms=outbox_ttl_ms(config))
            metrics.TIMELINE_WRITES.labels(kind="outbox").inc(added)
        fanout_stats_record(posts=1, writes=added or 0)
        outcome = "rebuilt" if added is None else "updated"
        logger.info("fanout %s: pull, outbox %s", post_id, outcome, extra=log)
        return None
    if not selectors.replica_has_post(post_id=post_id):
        # A follow committed just before the post may not be on the replica yet either.
        raise ReplicaBehind(f"the read replica has not replayed post {post_id} yet")
    replay = not store.claim(key=fanout_claim_key(post_id=post_id))
    own = store.insert(key=timeline_key(post.author_id), post_ids=[post_id], cap=config.timeline_length)
    metrics.TIMELINE_WRITES.labels(kind="own").inc(own or 0)
    # Every follower: LPUSHX skips those without a timeline, and a timeline expires within
    # inactive_days of its reader's last read (timeline_ttl_ms), so inactive readers cost
    # Redis a no-op each and PostgreSQL nothing.
    batches = selectors.follower_id_batches(author_id=post.author_id, batch_size=config.fanout_chunk_size)
    queue = selectors.fanout_queue(delivery=post.delivery, audience=post.author.followers_count)
    logger.info("fanout %s: push to followers of %s", post_id, post.author_id, extra=log)
    return FanoutPlan(
        post_id=post_id, cap=config.timeline_length, follower_batches=batches, queue=queue, replay=replay
    )


def fanout_mark_replay(*, post_id: int) -> None:
    """Make the post's next fan-out deduplicate, as for a redelivered task: used when a post
    is fanned out again (a restored post), whose id some timelines may still hold."""
    get_store().claim(key=fanout_claim_key(post_id=post_id))


def fanout_finish(*, post_id: int) -> None:
    """Record in PostgreSQL that the post no longer needs the sweeper: its outbox insert is
    done, or every follower chunk is in the broker (a chunk whose worker dies is redelivered)."""
    Post.objects.filter(id=post_id, fanout_state=FanoutState.PENDING).update(fanout_state=FanoutState.DONE)


def fanout_sweep(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Enqueue fan-out again for posts still pending after ``older_than``: their first enqueue
    failed (broker down) or their message was lost (broker flushed or restarted) before a
    worker finished it. Chunks sent that long ago and still not written (PendingChunk) are
    sent again too, as replays. Fan-out is idempotent, so a post that was merely slow is only
    delivered once. Each post is retried at most once per ``older_than``. Returns the ids
    enqueued; if the broker is still down, raises its error after recording those enqueued."""
    from timelines.tasks import fanout_post_enqueue  # tasks import this module

    now = timezone.now()
    cutoff = now - older_than
    rows = list(
        Post.objects.filter(fanout_state=FanoutState.PENDING, created_at__lt=cutoff)
        .filter(Q(fanout_swept_at__isnull=True) | Q(fanout_swept_at__lt=cutoff))
        .order_by("id")
        .values_list("id", "delivery", "author__followers_count")[:limit]
    )
    from timelines.tasks import fanout_chunk_enqueue

    cap = FeedConfig.load().timeline_length
    for chunk in PendingChunk.objects.filter(sent_at__lt=cutoff).order_by("id")[:limit]:
        # Each chunk at most once per grace period; a replay, since part of it may be written.
        PendingChunk.objects.filter(id=chunk.id).update(sent_at=now)
        fanout_chunk_enqueue(
            post_id=chunk.post_id, user_ids=chunk.user_ids, cap=cap, replay=True, queue=chunk.queue
        )
    enqueued: list[int] = []
    try:
        for post_id, delivery, audience in rows:
            fanout_post_enqueue(post_id=post_id, delivery=delivery, audience=audience)
            enqueued.append(post_id)
    finally:
        Post.objects.filter(id__in=enqueued).update(fanout_swept_at=now)
    return enqueued


def fanout_reopen(*, post_id: int) -> None:
    """A fan-out task gave up (retries exhausted): make the post pending again so the sweeper
    redoes its whole fan-out later rather than leaving some followers without it."""
    Post.objects.filter(id=post_id).update(fanout_state=FanoutState.PENDING, fanout_swept_at=timezone.now())


def timeline_mark_stale(*, user_id: int) -> None:
    """Redis was unavailable for an after-commit timeline update: remember it in PostgreSQL."""
    StaleTimeline.objects.get_or_create(user_id=user_id)


def timelines_drop_stale(*, limit: int = 10_000) -> int:
    """Drop the cached timelines marked stale (rebuilt from PostgreSQL on their next read).
    Returns how many; raises Redis's error, keeping the marks, if it is still unavailable."""
    stale = list(StaleTimeline.objects.order_by("id").values_list("id", "user_id")[:limit])
    if stale:
        store = get_store()
        for _, user_id in stale:  # rare: only after an outage
            store.discard(key=timeline_key(user_id))
        StaleTimeline.objects.filter(id__in=[row_id for row_id, _ in stale]).delete()
    return len(stale)


def fanout_claim_key(*, post_id: int, digest: str = "") -> str:
    """The claim on a post's fan-out, or on one chunk of it (``chunk_digest`` of its exact
    follower ids)."""
    if not digest:
        return f"fo:{{{post_id}}}"
    return f"fo:{{{post_id}}}:{digest}"


def chunk_digest(user_ids: Sequence[int]) -> str:
    return hashlib.blake2b(",".join(map(str, user_ids)).encode(), digest_size=12).hexdigest()


# PendingChunk rows are bookkeeping, written on every multi-chunk fan-out, so in raw SQL (the
# ORM spent 15-25 ms preparing 5,000 array elements) and committed with synchronous_commit off,
# set inside the statement so it costs no round trip. Losing them in a PostgreSQL crash is
# safe: an INSERT is followed by the post's synchronous fanout_finish, whose WAL flush covers
# it (if the crash comes first, the post is still pending and the sweeper redoes it all), and
# a lost DELETE only makes the sweeper re-send a written chunk as a deduplicating replay.
_PENDING_CHUNK_INSERT = f"""
INSERT INTO {PendingChunk._meta.db_table} (post_id, digest, user_ids, queue, sent_at)
SELECT %(post)s, %(digest)s, %(ids)s::bigint[], %(queue)s, %(now)s
FROM set_config('synchronous_commit', 'off', true)
ON CONFLICT (post_id, digest) DO NOTHING
"""
_PENDING_CHUNK_DELETE = f"""
DELETE FROM {PendingChunk._meta.db_table}
WHERE post_id = %(post)s AND digest = %(digest)s AND set_config('synchronous_commit', 'off', true) = 'off'
"""


def fanout_chunk_sent(*, post_id: int, user_ids: Sequence[int], queue: str) -> None:
    """Record a chunk about to be handed to the broker (see PendingChunk); a re-run fan-out
    sending the same chunk again records it once."""
    ids = "{" + ",".join(map(str, user_ids)) + "}"
    params = {
        "post": post_id,
        "digest": chunk_digest(user_ids),
        "ids": ids,
        "queue": queue,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_CHUNK_INSERT, params)


def fanout_chunk_deliver(*, post_id: int, user_ids: Sequence[int], cap: int, replay: bool = False) -> int:
    """A chunk task's work: push the post into the chunk's timelines, then clear the chunk's
    PendingChunk record. The digest (0.6 ms for 5,000 ids) is computed once for both."""
    digest = chunk_digest(user_ids)
    written = timelines_push(post_id=post_id, user_ids=user_ids, cap=cap, replay=replay, digest=digest)
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_CHUNK_DELETE, {"post": post_id, "digest": digest})
    return written


def fanout_first_batch(*, plan: FanoutPlan, user_ids: Sequence[int]) -> int:
    """fanout_post's own delivery: the post's first follower batch (none for an author
    without followers), and the post itself in this minute's statistics, in one update.

    The batch needs no claim of its own: it runs under the post's claim, which this very run
    took (fanout_start). A retried or redelivered run finds that claim taken and comes back
    as a replay, which deduplicates."""
    written = _push(get_store(), post_id=plan.post_id, user_ids=user_ids, cap=plan.cap, dedup=plan.replay)
    fanout_stats_record(posts=1, chunks=1 if user_ids else 0, recipients=len(user_ids), writes=written)
    return written


def timelines_push(
    *, post_id: int, user_ids: Sequence[int], cap: int, replay: bool = False, digest: str | None = None
) -> int:
    """One fan-out chunk: returns the number of timelines that gained the post (0 when the
    chunk is replayed).

    The first run of a chunk pushes with plain LPUSHX (fast, but not idempotent). Any run
    that may repeat earlier work deduplicates instead: a chunk whose claim already exists
    (redelivered after its worker died, retried after a Redis error, or re-sent with the same
    followers), or one the caller flags as a ``replay`` (a re-run fan-out, a sweeper)."""
    store = get_store()
    digest = digest or chunk_digest(user_ids)
    first_run = store.claim(key=fanout_claim_key(post_id=post_id, digest=digest))
    written = _push(store, post_id=post_id, user_ids=user_ids, cap=cap, dedup=replay or not first_run)
    fanout_stats_record(chunks=1, recipients=len(user_ids), writes=written)
    return written


def _push(store: TimelineStore, *, post_id: int, user_ids: Sequence[int], cap: int, dedup: bool) -> int:
    """Push the post into the followers' timelines (LPUSHX, or deduplicating), with metrics
    and a log line; returns how many timelines gained it."""
    if not user_ids:
        return 0
    started = time.perf_counter()
    written = store.push_to_many(keys=timeline_keys(user_ids), post_id=post_id, cap=cap, dedup=dedup)
    metrics.TIMELINE_WRITES.labels(kind="fanout").inc(written)
    metrics.FANOUT_CHUNKS.inc()
    metrics.FANOUT_RECIPIENTS.inc(len(user_ids))
    logger.info(
        "fanout %s: chunk of %d, %d written",
        post_id,
        len(user_ids),
        written,
        extra={
            "event": "fanout_chunk",
            "post_id": post_id,
            "recipients": len(user_ids),
            "written": written,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return written


def timeline_backfill_author(*, user_id: int, author_id: int) -> int:
    """After a follow (or unmute): merge the author's recent pushed posts into the timeline.

    If the author has more posts than we merge, the timeline is cut at the oldest merged one
    so it stays exact above its horizon; older pages then come from PostgreSQL. The author's
    pull-mode posts need nothing here: readers pull them from the outbox."""
    config = FeedConfig.load()
    limit = config.follow_backfill
    ids = selectors.author_post_ids(author_id=author_id, delivery=Delivery.PUSH, limit=limit + 1)
    boundary = 0
    if len(ids) > limit:
        ids = ids[:limit]
        boundary = ids[-1]
    added = get_store().insert(
        key=timeline_key(user_id), post_ids=ids, cap=config.timeline_length, boundary=boundary
    )
    metrics.TIMELINE_WRITES.labels(kind="backfill").inc(added or 0)
    return added or 0  # an unbuilt timeline gets everything when it is first read


def timeline_remove_author(*, user_id: int, author_id: int) -> int:
    """After an unfollow, block or mute: drop the author's posts from the timeline."""
    config = FeedConfig.load()
    ids = selectors.author_post_ids(
        author_id=author_id, delivery=Delivery.PUSH, limit=config.timeline_length, include_deleted=True
    )
    return get_store().remove(key=timeline_key(user_id), post_ids=ids)


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
    store = get_store()
    if force:
        store.discard(key=key)
    attempts = REBUILD_ATTEMPTS if ttl_ms() > 0 else 0
    for _ in range(attempts):
        if not store.rebuild_begin(key=key):
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
        if store.rebuild_finish(key=key, post_ids=ids, cap=cap, complete=complete, ttl_ms=ttl_ms()):
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
    store = get_store()
    deadline = time.monotonic() + wait_ms / 1000
    pause = 0.005
    while True:
        state = store.state(key)
        if state is ListState.BUILT:
            cached = store.read(key)
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
        return selectors.feed_post_ids_from_db(viewer_id=user_id, limit=limit, delivery=Delivery.PUSH)

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
    return get_store().state(timeline_key(user_id)) is ListState.BUILT


def outbox_rebuild(
    *, author_id: int, cap: int | None = None, force: bool = False, config: FeedConfig | None = None
) -> CachedList:
    """Rebuild an author's outbox: their newest pull-delivered posts."""
    config = config or FeedConfig.load()

    def fetch(limit: int) -> list[int]:
        return selectors.author_post_ids(author_id=author_id, delivery=Delivery.PULL, limit=limit)

    def ttl_ms() -> int:
        return outbox_ttl_ms(config)

    key = outbox_key(author_id)
    local_cache.outboxes.invalidate(key)
    return _rebuild(
        key=key, kind="outbox", fetch_ids=fetch, ttl_ms=ttl_ms, cap=cap, force=force, config=config
    )


# -- read path -----------------------------------------------------------------------------


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
    load: Callable[..., Sequence] = selectors.feed_posts_by_ids,
) -> FeedPage:
    """The feed page from PostgreSQL alone, for when Redis is unavailable: the same posts and
    cursors as the cached path (both are "newest first, older than the cursor"), at the cost
    of the deep-scroll query on every page."""
    ids = selectors.feed_post_ids_from_db(
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
    load: Callable[..., Sequence] = selectors.feed_posts_by_ids,
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
    seen = _reader_seen(viewer=viewer, config=config)
    pull_ids = selectors.pull_author_ids(viewer=viewer)
    sources = _read_sources(viewer=viewer, pull_author_ids=pull_ids, config=config)
    if seen:
        ttl_ms = timeline_ttl_ms(config, last_read=viewer.last_feed_read_at)
        get_store().touch(key=timeline_key(viewer.id), ttl_ms=ttl_ms)
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
        ids = selectors.feed_post_ids_from_db(
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


def _reader_seen(*, viewer: Account, config: FeedConfig) -> bool:
    """Record that the viewer reads their feed, at most once per ACTIVITY_RESOLUTION; returns
    True when it did (the caller then extends the timeline's expiry from the new stamp).

    A reader back after ``inactive_days`` should have no timeline left (timeline_ttl_ms); one
    whose expiry was set under a longer window (``inactive_days`` lowered since) is dropped
    here all the same, and the read below rebuilds it from PostgreSQL."""
    now = timezone.now()
    last = viewer.last_feed_read_at
    if last is not None and now - last < ACTIVITY_RESOLUTION:
        return False
    if last is None or last < now - timedelta(days=config.inactive_days):
        get_store().discard(key=timeline_key(viewer.id))
    Account.objects.filter(pk=viewer.pk).update(last_feed_read_at=now)
    viewer.last_feed_read_at = now
    return True


def _read_sources(*, viewer: Account, pull_author_ids: Sequence[int], config: FeedConfig) -> list[CachedList]:
    """The viewer's timeline and the outboxes they pull, in that order: outboxes from this
    process's short-lived copy when it has them, the rest in one Redis round trip, and any
    missing list rebuilt (once, however many readers want it at the same moment)."""
    keys = [timeline_key(viewer.id)] + [outbox_key(a) for a in pull_author_ids]
    sources: list[CachedList | None] = [None] * len(keys)
    wanted = [0]
    for index in range(1, len(keys)):
        local = local_cache.outboxes.get(keys[index], ttl_ms=config.outbox_cache_ms)
        if local is None:
            wanted.append(index)
        else:
            sources[index] = local
    if local_hits := len(keys) - len(wanted):  # one metric update, not one per outbox
        metrics.TIMELINE_READS.labels(kind="outbox", result="local").inc(local_hits)
    for index, source in zip(wanted, get_store().read_many([keys[i] for i in wanted]), strict=True):
        kind = "timeline" if index == 0 else "outbox"
        metrics.TIMELINE_READS.labels(kind=kind, result="miss" if source is None else "hit").inc()
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


# -- consistency check ---------------------------------------------------------------------


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
    expected = selectors.feed_post_ids_from_db(viewer_id=viewer.id, before_id=before_id, limit=depth)
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
