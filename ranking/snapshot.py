"""Ranked scroll snapshots in Redis: the ranked order of one scroll session, so later pages
follow the order the first page was cut from, however scores move meanwhile.

``rk:{viewer}:<session>`` is a list of feed entry ids, best first; with explain=1,
``rkx:{viewer}:<session>`` is a hash of entry id -> score breakdown (JSON). Both expire after
``rank_snapshot_ttl_seconds`` of inactivity (each page renews them). Every command touches one
key and the keys carry the viewer's hash tag, so this runs on Redis Cluster unchanged. A lost
snapshot loses nothing: the session falls back as described in ranking.services. So Redis
errors here are logged and treated as "no snapshot", never turned into a failed request: the
scroll then re-ranks what is left of its window on each page, still without repeats."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence

import redis

from timelines.keys import explain_key, snapshot_key
from timelines.public import get_store

logger = logging.getLogger(__name__)
# RedisClusterException (e.g. no reachable node) does not derive from RedisError.
REDIS_ERRORS = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException)


def snapshot_save(
    *, viewer_id: int, entry_ids: Sequence[int], ttl: int, breakdowns: Mapping[int, dict] | None = None
) -> str:
    """Store a ranked order (one round trip); returns the new session id."""
    session = secrets.token_hex(6)
    client = get_store().client
    try:
        with client.pipeline(transaction=False) as pipe:
            if entry_ids:
                pipe.rpush(snapshot_key(viewer_id, session), *entry_ids)
                pipe.expire(snapshot_key(viewer_id, session), ttl)
            if breakdowns:
                key = explain_key(viewer_id, session)
                pipe.hset(key, mapping={entry: json.dumps(b) for entry, b in breakdowns.items()})
                pipe.expire(key, ttl)
            pipe.execute()
    except REDIS_ERRORS as exc:
        logger.warning("ranked snapshot not stored for viewer %s: %s", viewer_id, exc)
    return session


def snapshot_read(*, viewer_id: int, session: str, start: int, count: int, ttl: int) -> list[int] | None:
    """``count`` entry ids from position ``start``, renewing the snapshot's lifetime; None when
    the snapshot has expired (or Redis lost it). One round trip."""
    key = snapshot_key(viewer_id, session)
    try:
        with get_store().client.pipeline(transaction=False) as pipe:
            pipe.lrange(key, start, start + count - 1)
            pipe.expire(key, ttl)
            pipe.expire(explain_key(viewer_id, session), ttl)
            ids, alive, _ = pipe.execute()
    except REDIS_ERRORS as exc:
        logger.warning("ranked snapshot unreadable for viewer %s: %s", viewer_id, exc)
        return None
    return [int(x) for x in ids] if alive else None


def snapshot_breakdowns(*, viewer_id: int, session: str, entry_ids: Sequence[int]) -> dict[int, dict]:
    """Stored score breakdowns of the entries (those the session kept: explain=1 sessions)."""
    if not entry_ids:
        return {}
    try:
        raw = get_store().client.hmget(explain_key(viewer_id, session), list(entry_ids))
    except REDIS_ERRORS as exc:
        logger.warning("ranked snapshot breakdowns unreadable for viewer %s: %s", viewer_id, exc)
        return {}
    return {
        entry: json.loads(value) for entry, value in zip(entry_ids, raw, strict=True) if value is not None
    }
