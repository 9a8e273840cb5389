"""The one way to start a fan-out: every new post (the post_save signal, on commit), every
restored post, every sweep and every replayed chunk is queued here
(docs/architecture.md#fan-out). The only module of the fan-out that imports the tasks.
"""

from __future__ import annotations

from timelines import store, tasks
from timelines.fanout.plan import fanout_queue
from timelines.keys import fanout_claim_key


def fanout_enqueue(*, post_id: int, delivery: str, audience: int, replay: bool = False) -> str:
    """Queue a post's fan-out where its audience size says (``fanout_queue``); returns the
    queue. ``replay``: the post may already be in some timelines (a restored post), so its
    fan-out must deduplicate, as for a redelivered task: its claim is taken first."""
    if replay:
        store.get_store().claim(key=fanout_claim_key(post_id=post_id))
    queue = fanout_queue(delivery=delivery, audience=audience)
    tasks.fanout_post.apply_async(args=[post_id], queue=queue)
    return queue


def fanout_chunk_enqueue(
    *, post_id: int, user_ids: list[int], cap: int, replay: bool, queue: str, author_id: int = 0
) -> None:
    """Send one chunk task (a batch of followers beyond the first). Its log representation
    names the ids instead of listing them: Celery's own repr of thousands of ids cost more
    than encoding the message. ``author_id`` (for the stream event; 0: the chunk loads it)."""
    argsrepr = f"({post_id}, <{len(user_ids)} follower ids>, {cap}, {replay}, {author_id})"
    args = [post_id, user_ids, cap, replay, author_id]
    tasks.fanout_chunk.apply_async(args=args, queue=queue, argsrepr=argsrepr)
