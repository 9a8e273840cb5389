"""Who gets a post, and how: its delivery mode, its queue and its followers in batches.

Each post is delivered one way, fixed at creation (docs/architecture.md#delivery): pushed into
followers' timelines, or kept in the author's outbox for readers to pull. Follower batches
include inactive readers: pushing to a timeline that does not exist is a no-op in Redis,
cheaper than asking PostgreSQL who is active. Reads PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import router

from feedsite.db import prepared_cursor
from feedsite.db_router import replica_configured, replica_reads
from graph.models import Account, FanoutMode, Follow
from posts.models import Delivery, Post
from timelines.models import FeedConfig

FANOUT_QUEUE = "fanout"
FANOUT_BULK_QUEUE = "fanout_bulk"
# Follower ids read per query when fanning out (several batches' worth: one short index-only
# scan is cheaper than many).
FOLLOWER_PAGE = 10_000


class ReplicaBehind(Exception):
    """The read replica lags behind a post's commit; the fan-out task retries shortly."""


@dataclass(frozen=True)
class FanoutPlan:
    post_id: int
    author_id: int
    cap: int
    follower_batches: Iterator[list[int]]
    queue: str  # where the chunk tasks go (fanout_queue)
    # True when this post's fan-out ran before (a redelivered or re-run fanout_post): its
    # batches may overlap ones already pushed, with other boundaries, so they deduplicate.
    replay: bool = False


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


def fanout_queue(*, delivery: str, audience: int) -> str:
    """The Celery queue for a post's fan-out and its chunks: big push fan-outs get a queue
    (and workers) of their own, so small posts never wait behind them. A pull-mode post is
    one outbox write, however large its audience."""
    if delivery == Delivery.PUSH and audience >= settings.FANOUT_BULK_THRESHOLD:
        return FANOUT_BULK_QUEUE
    return FANOUT_QUEUE


# One row holding the page as an array and its last edge id: psycopg decodes an int8[] in C,
# cheaper than building a Python row per follower (measured: see docs/performance.md). The
# page is the subquery's (ORDER BY id LIMIT), and max(id) its keyset bound, whatever order the
# array is in; array_agg(... ORDER BY id) would sort it again, so it is left to come out in
# index order, as it does with this plan, which only decides who gets a post first.
_FOLLOWER_PAGE_SQL = """
SELECT array_agg(f.follower_id), max(f.id) FROM (
    SELECT id, follower_id FROM graph_follow
    WHERE followee_id = %(author)s AND id > %(after)s
    ORDER BY id
    LIMIT %(page)s
) f
"""


def follower_id_batches(*, author_id: int, batch_size: int) -> Iterator[list[int]]:
    """The author's follower ids in batches of ``batch_size``, read in keyset-paginated pages
    (index-only scan on ``follow_followers``); never an OFFSET, so each page costs the same.
    Every follower, active or not (see the module docs). Raw SQL: building ORM rows cost more
    than the query."""
    page = max(batch_size, FOLLOWER_PAGE)
    last_edge_id = 0
    pending: list[int] = []
    while True:
        with replica_reads():  # the read replica, when configured (feedsite.db_router)
            alias = router.db_for_read(Follow)
        with prepared_cursor(alias) as cursor:  # binary: the int8[] needs no text parsing
            cursor.execute(_FOLLOWER_PAGE_SQL, {"author": author_id, "after": last_edge_id, "page": page})
            follower_ids, last = cursor.fetchone()
        follower_ids = follower_ids or []
        if follower_ids:
            last_edge_id = last
        pending.extend(follower_ids)
        while len(pending) >= batch_size:
            yield pending[:batch_size]
            pending = pending[batch_size:]
        if len(follower_ids) < page:
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
