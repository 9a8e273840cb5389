"""Pushing a post into its readers' timelines: the batch loop and the one delivery function.

``fanout_run`` (the ``fanout_post`` task) starts the post (outbox for pull mode; the author's
own timeline and the post's claim for push mode), sends every follower batch but the first as
a chunk task (recorded in the ledger first), pushes the first batch itself, and only then
marks the post done in the ledger. ``fanout_push`` delivers one batch, first or chunk alike,
and in the same round trip publishes the post to the batch's readers who have an open stream
(docs/architecture.md#publishing).
A push that may repeat earlier work is a *replay* and deduplicates; the *claims* in Redis tell
a first run from a replay (docs/architecture.md#fan-out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.conf import settings

from feedsite import metrics
from posts.models import Delivery, Post
from timelines import local_cache, store
from timelines.fanout import ledger
from timelines.fanout.enqueue import fanout_chunk_enqueue
from timelines.fanout.plan import (
    FanoutPlan,
    ReplicaBehind,
    fanout_queue,
    follower_id_batches,
    replica_has_post,
)
from timelines.feed.policy import outbox_ttl_ms
from timelines.feed.rebuild import outbox_rebuild
from timelines.keys import (
    chunk_digest,
    fanout_claim_key,
    outbox_key,
    stream_marker_keys,
    timeline_key,
    timeline_keys,
)
from timelines.models import FeedConfig
from timelines.monitoring import fanout_stats_record
from timelines.streams import post_message, publish_post_to_readers

logger = logging.getLogger(__name__)


def fanout_run(*, post_id: int) -> int:
    """A new post's whole fan-out (the ``fanout_post`` task's work); returns the number of
    chunk tasks enqueued. Most posts, whose authors have fewer followers than a batch, need
    no chunk task: this run pushes the first batch itself, after enqueueing the others."""
    plan = fanout_start(post_id=post_id)
    chunks = 0
    if plan is not None:
        first = None
        for user_ids in plan.follower_batches:
            if first is None:
                first = user_ids
                continue
            ledger.fanout_chunk_sent(post_id=plan.post_id, user_ids=user_ids, queue=plan.queue)
            fanout_chunk_enqueue(
                post_id=plan.post_id,
                user_ids=user_ids,
                cap=plan.cap,
                replay=plan.replay,
                queue=plan.queue,
                author_id=plan.author_id,
            )
            chunks += 1
        fanout_push(
            post_id=plan.post_id,
            user_ids=first or [],
            cap=plan.cap,
            replay=plan.replay,
            first=True,
            author_id=plan.author_id,
        )
    # Only now: if this worker dies before here, the message is redelivered (acks_late) or,
    # if the broker lost it, the post is still pending for the sweeper.
    ledger.fanout_finish(post_id=post_id)
    return chunks


def fanout_start(*, post_id: int) -> FanoutPlan | None:
    """Deliver what needs no batch: a pull-mode post goes to its author's outbox and is done;
    a push-mode post goes to its author's own timeline at once, under the post's claim, and
    returns the follower batches. Returns None when there is nothing (more) to do, including
    for a post that was deleted or never committed: a stale event is not an error."""
    post = (
        Post.objects.filter(id=post_id, deleted_at__isnull=True)
        .select_related("author")
        .only("author_id", "delivery", "author__followers_count")
        .first()
    )
    if post is None:
        return None
    config = FeedConfig.cached()  # its knobs (length, chunk size, expiry) apply within seconds
    lists = store.get_store()
    log = {"event": "fanout_start", "post_id": post_id, "author_id": post.author_id}
    log["delivery"] = post.delivery
    if post.delivery == Delivery.PULL:
        key = outbox_key(post.author_id)
        added = lists.insert(key=key, post_ids=[post_id], cap=config.timeline_length, ordered=True)
        local_cache.outboxes.invalidate(key)  # this process's readers see the post at once
        if added is None:
            # A cold outbox is built here, once, rather than by the first of the author's
            # many readers; the rebuild reads PostgreSQL, so it includes this post.
            outbox_rebuild(author_id=post.author_id, cap=config.timeline_length)
        else:
            lists.touch(key=key, ttl_ms=outbox_ttl_ms(config))
            metrics.TIMELINE_WRITES.labels(kind="outbox").inc(added)
        fanout_stats_record(posts=1, writes=added or 0)
        outcome = "rebuilt" if added is None else "updated"
        logger.info("fanout %s: pull, outbox %s", post_id, outcome, extra=log)
        return None
    if not replica_has_post(post_id=post_id):
        # A follow committed just before the post may not be on the replica yet either.
        raise ReplicaBehind(f"the read replica has not replayed post {post_id} yet")
    replay = not lists.claim(key=fanout_claim_key(post_id=post_id))
    own = lists.insert(key=timeline_key(post.author_id), post_ids=[post_id], cap=config.timeline_length)
    metrics.TIMELINE_WRITES.labels(kind="own").inc(own or 0)
    if settings.STREAM_PUBLISH_PUSHED:
        publish_post_to_readers(post_id=post_id, author_id=post.author_id, user_ids=[post.author_id])
    batches = follower_id_batches(author_id=post.author_id, batch_size=config.fanout_chunk_size)
    queue = fanout_queue(delivery=post.delivery, audience=post.author.followers_count)
    logger.info("fanout %s: push to followers of %s", post_id, post.author_id, extra=log)
    return FanoutPlan(
        post_id=post_id,
        author_id=post.author_id,
        cap=config.timeline_length,
        follower_batches=batches,
        queue=queue,
        replay=replay,
    )


def fanout_push(
    *,
    post_id: int,
    user_ids: Sequence[int],
    cap: int,
    replay: bool = False,
    first: bool = False,
    author_id: int = 0,
) -> int:
    """Push the post into one batch of timelines; returns how many gained it.

    A first delivery pushes with plain LPUSHX (fast, not idempotent); a replay deduplicates.
    ``first``: the post's first batch, pushed by ``fanout_run`` under the post's claim, which
    that same run took (so ``replay`` already says whether it is a replay), and counted with
    the post in one statistics update. Any other batch is a chunk: it takes a claim of its
    own and is a replay if that claim existed (redelivered after its worker died, retried
    after a Redis error, re-sent with the same followers) or if the caller says so (a re-run
    fan-out, the sweeper); once pushed, its ledger row is cleared. ``author_id``: the post's,
    for its stream event; 0 (a chunk re-sent by the sweeper) loads it."""
    lists = store.get_store()
    if not author_id and user_ids and settings.STREAM_PUBLISH_PUSHED:  # only the event needs it
        author_id = Post.objects.filter(id=post_id).values_list("author_id", flat=True).first() or 0
    digest = None
    if not first:
        digest = chunk_digest(user_ids)
        claimed = lists.claim(key=fanout_claim_key(post_id=post_id, digest=digest))
        replay = replay or not claimed
    written = _push_logged(
        lists, post_id=post_id, author_id=author_id, user_ids=user_ids, cap=cap, replay=replay
    )
    fanout_stats_record(
        posts=1 if first else 0, chunks=1 if user_ids else 0, recipients=len(user_ids), writes=written
    )
    if digest is not None:
        ledger.fanout_chunk_done(post_id=post_id, digest=digest)
    return written


def _push_logged(
    lists, *, post_id: int, author_id: int, user_ids: Sequence[int], cap: int, replay: bool
) -> int:
    """The store push (and its stream publish), with metrics and a log line."""
    if not user_ids:
        return 0
    publish = settings.STREAM_PUBLISH_PUSHED
    started = time.perf_counter()
    written = lists.push(
        keys=timeline_keys(user_ids),
        post_id=post_id,
        cap=cap,
        replay=replay,
        # Off by default until the publish costs fan-out nothing (docs/architecture.md#publishing);
        # off, the batch's marker names are not even built.
        markers=stream_marker_keys(user_ids) if publish else (),
        message=post_message(post_id=post_id, author_id=author_id) if publish else "",
    )
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
