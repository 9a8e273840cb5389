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
import heapq
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from graph.models import Account
from posts.models import Delivery, Post
from timelines import selectors
from timelines.models import FeedConfig
from timelines.store import CachedList, get_store, outbox_key, timeline_key

logger = logging.getLogger(__name__)

REBUILD_ATTEMPTS = 3


# -- write path ----------------------------------------------------------------------------


class ReplicaBehind(Exception):
    """The read replica lags behind a post's commit; the fan-out task retries shortly."""


@dataclass(frozen=True)
class FanoutPlan:
    post_id: int
    cap: int
    follower_batches: Iterator[list[int]]
    queue: str  # where the chunk tasks go (selectors.fanout_queue)


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
    config = FeedConfig.load()
    store = get_store()
    if post.delivery == Delivery.PULL:
        if (
            store.insert(key=outbox_key(post.author_id), post_ids=[post_id], cap=config.timeline_length)
            is None
        ):
            # A cold outbox is built here, once, rather than by the first of the author's
            # many readers; the rebuild reads PostgreSQL, so it includes this post.
            outbox_rebuild(author_id=post.author_id, cap=config.timeline_length)
        return None
    if not selectors.replica_has_post(post_id=post_id):
        # A follow committed just before the post may not be on the replica yet either.
        raise ReplicaBehind(f"the read replica has not replayed post {post_id} yet")
    store.insert(key=timeline_key(post.author_id), post_ids=[post_id], cap=config.timeline_length)
    batches = selectors.follower_id_batches(author_id=post.author_id, batch_size=config.fanout_chunk_size)
    queue = selectors.fanout_queue(delivery=post.delivery, audience=post.author.followers_count)
    return FanoutPlan(post_id=post_id, cap=config.timeline_length, follower_batches=batches, queue=queue)


def timelines_push(*, post_id: int, user_ids: Sequence[int], cap: int) -> int:
    """One fan-out chunk: one Redis round trip whatever its size. Returns the number of
    timelines that gained the post (0 when the chunk is replayed)."""
    return get_store().push_to_many(keys=[timeline_key(u) for u in user_ids], post_id=post_id, cap=cap)


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
    return added or 0  # an unbuilt timeline gets everything when it is first read


def timeline_remove_author(*, user_id: int, author_id: int) -> int:
    """After an unfollow, block or mute: drop the author's posts from the timeline."""
    config = FeedConfig.load()
    ids = selectors.author_post_ids(
        author_id=author_id, delivery=Delivery.PUSH, limit=config.timeline_length, include_deleted=True
    )
    return get_store().remove(key=timeline_key(user_id), post_ids=ids)


def _rebuild(*, key: str, fetch_ids: Callable[[int], list[int]], cap: int) -> CachedList:
    """Rebuild one list from PostgreSQL without losing posts fanned out meanwhile.

    Order matters: the BUILDING marker goes in before PostgreSQL is read, so any post that
    commits after the read has its fan-out land in the marked list (fan-out runs only after
    commit), and the final write keeps it. If the list vanishes mid-way (Redis flushed), those
    fan-outs were dropped, so we start over; after a few tries we serve PostgreSQL's answer
    uncached.
    """
    store = get_store()
    for _ in range(REBUILD_ATTEMPTS):
        store.rebuild_begin(key=key)
        ids = fetch_ids(cap + 1)
        complete = len(ids) <= cap
        ids = ids[:cap]
        if store.rebuild_finish(key=key, post_ids=ids, cap=cap, complete=complete):
            logger.info("rebuilt %s: %d ids, complete=%s", key, len(ids), complete)
            return CachedList(ids=ids, complete=complete)
    logger.warning("could not cache rebuilt %s: the key kept vanishing", key)
    return CachedList(ids=ids, complete=complete)


def timeline_rebuild(*, user_id: int, cap: int | None = None) -> CachedList:
    """Rebuild a home timeline: the newest pushed posts of the user and their followees."""
    if cap is None:
        cap = FeedConfig.load().timeline_length

    def fetch(limit: int) -> list[int]:
        return selectors.feed_post_ids_from_db(viewer_id=user_id, limit=limit, delivery=Delivery.PUSH)

    return _rebuild(key=timeline_key(user_id), fetch_ids=fetch, cap=cap)


def outbox_rebuild(*, author_id: int, cap: int | None = None) -> CachedList:
    """Rebuild an author's outbox: their newest pull-delivered posts."""
    if cap is None:
        cap = FeedConfig.load().timeline_length

    def fetch(limit: int) -> list[int]:
        return selectors.author_post_ids(author_id=author_id, delivery=Delivery.PULL, limit=limit)

    return _rebuild(key=outbox_key(author_id), fetch_ids=fetch, cap=cap)


# -- read path -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    posts: list[Post]
    next_before: int | None  # cursor for the next page, None on the last page


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
    pull-mode followees, one Redis round trip, one SQL query for the posts. ``load`` turns ids
    into visible entries: full posts by default; ranking passes a lighter loader.
    """
    pull_ids = selectors.pull_author_ids(viewer=viewer)
    sources = _read_sources(viewer_id=viewer.id, pull_author_ids=pull_ids)
    horizon = max(source.horizon for source in sources)

    want = limit + 1  # one extra tells us whether there is a next page
    posts: list[Post] = []
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
    return FeedPage(posts=posts[:limit], next_before=next_before)


def _read_sources(*, viewer_id: int, pull_author_ids: Sequence[int]) -> list[CachedList]:
    keys = [timeline_key(viewer_id)] + [outbox_key(a) for a in pull_author_ids]
    cached = get_store().read_many(keys)
    if all(source is not None for source in cached):
        return cached  # the common case: no SQL beyond the page's posts
    cap = FeedConfig.load().timeline_length
    sources = []
    for index, source in enumerate(cached):
        if source is None:
            if index == 0:
                source = timeline_rebuild(user_id=viewer_id, cap=cap)
            else:
                source = outbox_rebuild(author_id=pull_author_ids[index - 1], cap=cap)
        sources.append(source)
    return sources


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
