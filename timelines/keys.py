"""Every Redis key name feedsite writes, in one place.

Timeline-store keys (``tl:``, ``ob:``, ``fo:``, ``rk:``, ``rkx:``, ``st:``) carry a Redis Cluster hash
tag (``{42}``) so every command and script touches one slot: see
docs/architecture.md#timeline-store. The fan-out statistics hash lives on ``REDIS_URL`` (the
broker's Redis), not in the timeline store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def timeline_key(user_id: int) -> str:
    """A reader's home timeline: pushed post ids, newest first."""
    return f"tl:{{{user_id}}}"


def timeline_keys(user_ids: Iterable[int]) -> list[str]:
    """``timeline_key`` of each id: one join and one split in C rather than a call per id."""
    joined = "}\ntl:{".join(map(str, user_ids))
    return f"tl:{{{joined}}}".split("\n") if joined else []


def outbox_key(author_id: int) -> str:
    """An author's outbox: their pull-delivered post ids, newest first."""
    return f"ob:{{{author_id}}}"


def fanout_claim_key(*, post_id: int, digest: str = "") -> str:
    """The claim on a post's fan-out, or on one chunk of it (``chunk_digest`` of its exact
    follower ids)."""
    if not digest:
        return f"fo:{{{post_id}}}"
    return f"fo:{{{post_id}}}:{digest}"


def chunk_digest(user_ids: Sequence[int]) -> str:
    """Names one chunk (its exact follower ids) in its claim key and its ledger row."""
    return hashlib.blake2b(",".join(map(str, user_ids)).encode(), digest_size=12).hexdigest()


def snapshot_key(viewer_id: int, session: str) -> str:
    """A ranked scroll session's order (ranking/snapshot.py)."""
    return f"rk:{{{viewer_id}}}:{session}"


def explain_key(viewer_id: int, session: str) -> str:
    """A ranked scroll session's score breakdowns (ranking/snapshot.py)."""
    return f"rkx:{{{viewer_id}}}:{session}"


def stream_marker_key(user_id: int) -> str:
    """ "This reader has an open stream": set and refreshed by the stream process, in the slot
    of the reader's timeline so the fan-out push checks it where it writes
    (docs/architecture.md#live-feed)."""
    return f"st:{{{user_id}}}"


def stream_marker_keys(user_ids: Iterable[int]) -> list[str]:
    """``stream_marker_key`` of each id (as ``timeline_keys``)."""
    joined = "}\nst:{".join(map(str, user_ids))
    return f"st:{{{joined}}}".split("\n") if joined else []


def reader_channel(user_id: int) -> str:
    """A reader's pub/sub channel: pushed posts, graph changes, notifications."""
    return f"stream:{{{user_id}}}"


# The prefix of ``reader_channel``: the push script names a reader's channel from the hash tag
# of their marker key (``stream:`` + ``{42}``); tests/timelines/test_streams.py checks it.
READER_CHANNEL_PREFIX = "stream:"


def author_channel(author_id: int) -> str:
    """A pull-mode author's channel: one PUBLISH per post, whatever their audience."""
    return f"stream:author:{{{author_id}}}"


# Rare events every stream process needs (post deletions by any author).
STREAM_EVENTS_CHANNEL = "stream:all"


def trends_key() -> str:
    """The trending posts: comma-separated post ids, best first (ranking/trends.py). One key;
    its hash tag pins it to one slot like the others."""
    return "tr:{trends}:posts"


# Per-minute fan-out counters (timelines/monitoring.py), formatted with the minute number.
STATS_KEY = "feedsite:fanout:minute:{}"
