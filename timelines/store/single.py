"""``TimelineStore``: single-key list operations on one Redis.

Invariants (docs/architecture.md#timeline-store): writers never create a missing list (a
missing key means "not built"; readers rebuild it from PostgreSQL); the tail is written only by
scripts; every command and script touches one key, so the cluster store reuses all of this.
``push`` is the hot path: a first delivery is one native LPUSHX per key, not idempotent, so a
delivery that may repeat earlier work passes ``replay=True`` (see the fan-out's claims). Its
live-feed publish (``publish_marked.lua``, the one script that reads many keys) rides in the
same round trip (docs/architecture.md#live-feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import hiredis
import redis

from timelines.keys import READER_CHANNEL_PREFIX
from timelines.store import wire
from timelines.store.lists import (
    BUILDING,
    BUILDING_TTL_MS,
    CLAIM_TTL_MS,
    CachedList,
    ListState,
    parse_head,
    parse_list,
    trim_slack,
)
from timelines.store.scripts import lua_script


class TimelineStore:
    """Single-key list operations on one Redis (the cluster store extends it)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._insert = client.register_script(lua_script("insert"))
        self._remove = client.register_script(lua_script("remove"))
        self._rebuild_begin = client.register_script(lua_script("rebuild_begin"))
        self._rebuild_finish = client.register_script(lua_script("rebuild_finish"))
        self._touch = client.register_script(lua_script("touch"))
        self._trim = client.register_script(lua_script("trim"))
        self._publish = client.register_script(lua_script("publish_marked"))

    # -- writes ------------------------------------------------------------------------------

    def push(
        self,
        *,
        keys: Sequence[str],
        post_id: int,
        cap: int,
        replay: bool = False,
        markers: Sequence[str] = (),
        message: str = "",
    ) -> int:
        """Fan-out: push one post id onto the head of many existing lists; missing lists stay
        missing. Returns how many lists gained the id (on the LPUSHX path this includes a late
        id pushed below a trimmed list's horizon, which readers ignore).

        ``replay=False`` (a batch's first delivery) sends one native ``LPUSHX`` per key as
        pre-built RESP in one round trip, then, only for the lists its replies show past
        ``cap + trim_slack(cap)``, one trim script each in a second round trip. It does not
        look for the id first, so pushing the same id twice stores it twice: callers must pass
        ``replay=True`` for anything that may be a replay (see ``claim``), which runs the
        deduplicating insert script per key instead (several times the server cost).

        ``message`` (with ``markers``, the keys' readers' stream markers in the same order):
        also PUBLISH it to each reader who has an open stream, after the writes; on the
        LPUSHX path in the same round trip. A replay publishes again: delivery to streams is
        at least once, and the stream process drops a post a stream already sent.
        """
        if not keys:
            return 0
        if replay:
            sha, args = self._insert.sha, (cap, trim_slack(cap), 0, 0, post_id)

            def queue_inserts(pipe: redis.client.Pipeline) -> None:
                for key in keys:
                    pipe.evalsha(sha, 1, key, *args)

            added = sum(added or 0 for added in self._pipelined_scripts(queue_inserts, self._insert))
            if message:
                self.publish_marked(markers=markers, message=message)
            return added

        payload = wire.lpushx_payload(keys, post_id)
        if message:
            payload += wire.evalsha_payload(self._publish.sha, self._publish_head(message), markers)
        replies = wire.round_trip_replies(self.client, payload, len(keys) + (1 if message else 0))
        if message:
            published = replies.pop()
            if isinstance(published, hiredis.ReplyError) and str(published).startswith("NOSCRIPT"):
                self.publish_marked(markers=markers, message=message)  # a restarted Redis
                published = 0
        for reply in replies:
            if isinstance(reply, hiredis.ReplyError):
                raise redis.exceptions.ResponseError(str(reply))
        if message and isinstance(published, hiredis.ReplyError):
            raise redis.exceptions.ResponseError(str(published))
        lengths = replies
        limit = cap + trim_slack(cap)
        overfull = (
            [key for key, length in zip(keys, lengths, strict=True) if length > limit]
            if max(lengths) > limit
            else []
        )
        if overfull:
            trim_sha = self._trim.sha

            def queue_trims(pipe: redis.client.Pipeline) -> None:
                for key in overfull:
                    pipe.evalsha(trim_sha, 1, key, cap)

            self._pipelined_scripts(queue_trims, self._trim)
        return sum(1 for length in lengths if length)

    def publish_marked(self, *, markers: Sequence[str], message: str) -> int:
        """PUBLISH ``message`` to the reader channel of each stream marker that exists (the
        push's own round trip, on its own); returns how many were sent."""
        if not markers:
            return 0
        return int(self._publish(keys=[], args=[*self._publish_head(message), *markers]))

    def _publish_head(self, message: str) -> tuple[str, str, str]:
        """``publish_marked.lua``'s leading arguments."""
        return (message, READER_CHANNEL_PREFIX, "0")

    def claim(self, *, key: str, ttl_ms: int = CLAIM_TTL_MS) -> bool:
        """Mark a unit of work (a fan-out batch) as started: True the first time, False if it
        was claimed before, i.e. this run is a replay and must deduplicate."""
        return bool(self.client.set(key, 1, nx=True, px=ttl_ms))

    def insert(
        self, *, key: str, post_ids: Iterable[int], cap: int, boundary: int = 0, ordered: bool = False
    ) -> int | None:
        """Insert ids into one list; the number added, or None if the list does not exist.
        ``ordered`` keeps the list sorted (an outbox: see ``read_many``'s ``depths``); other
        lists take a late id at the head, as fan-out's LPUSHX does."""
        ids = list(post_ids)
        if not ids:
            return 0
        added = self._insert(keys=[key], args=[cap, trim_slack(cap), boundary, int(ordered), *ids])
        return None if added is None else int(added)

    def remove(self, *, key: str, post_ids: Iterable[int]) -> int:
        ids = list(post_ids)
        if not ids:
            return 0
        return int(self._remove(keys=[key], args=ids))

    def rebuild_begin(self, *, key: str) -> bool:
        return bool(self._rebuild_begin(keys=[key], args=[BUILDING_TTL_MS]))

    def rebuild_finish(
        self, *, key: str, post_ids: Sequence[int], cap: int, complete: bool, ttl_ms: int
    ) -> bool:
        """Write a rebuilt list (see lua/rebuild_finish.lua), expiring ``ttl_ms`` from now:
        every list is created with an expiry, in the same script."""
        args = [cap, 1 if complete else 0, ttl_ms, *post_ids]
        return bool(self._rebuild_finish(keys=[key], args=args))

    def touch(self, *, key: str, ttl_ms: int) -> bool:
        """Expire a built list ``ttl_ms`` from now (inactive users' timelines, quiet outboxes)."""
        return bool(self._touch(keys=[key], args=[ttl_ms]))

    def discard(self, *, key: str) -> None:
        """Drop a list that may be stale; the next read rebuilds it from PostgreSQL."""
        self.client.delete(key)

    # -- reads -------------------------------------------------------------------------------

    def state(self, key: str) -> ListState:
        """Whether a list is missing, being rebuilt or built: one O(1) command, for readers
        waiting on someone else's rebuild."""
        tail = self.client.lindex(key, -1)
        if tail is None:
            return ListState.MISSING
        return ListState.BUILDING if int(tail) == BUILDING else ListState.BUILT

    def read_many(
        self, keys: Sequence[str], depths: Sequence[int | None] | None = None
    ) -> list[CachedList | None]:
        """Read lists in one round trip; None for a missing or still-building list. With
        ``depths``, a key whose depth is not None has only its newest ``depth`` ids read (see
        lists.parse_head: sorted lists only, i.e. outboxes); a head that cannot stand alone
        is read whole in a second round trip."""
        if not keys:
            return []
        depths = depths or [None] * len(keys)
        if len(keys) == 1 and depths[0] is None:  # most feed reads (outboxes come from the local copy)
            return [parse_list(self.client.lrange(keys[0], 0, -1))]
        commands = []
        for key, depth in zip(keys, depths, strict=True):
            if depth is None:
                commands.append(("LRANGE", key, 0, -1))
            else:
                commands += [("LRANGE", key, 0, depth - 1), ("LLEN", key), ("LINDEX", key, -1)]
        replies = iter(self._read_commands(commands))
        lists, again = [], []
        for index, depth in enumerate(depths):
            raw = next(replies)
            if depth is None:
                lists.append(parse_list(raw))
                continue
            length = next(replies)
            lists.append(parse_head(raw, length=length, tail=next(replies)))
            if lists[-1] is None and length > depth:
                again.append(index)  # building, or a head that cannot stand alone
        for index, source in zip(again, self.read_many([keys[i] for i in again]), strict=True):
            lists[index] = source
        return lists

    def _read_commands(self, commands: Sequence[tuple]) -> list:
        """Replies of read-only commands, sent in one round trip. Packed by hand and parsed
        in bulk (wire.py): for a page merging a hundred outboxes, redis-py's pipeline spent
        more on packing and parsing than Redis on answering (measured: docs/performance.md)."""
        return wire.round_trip(self.client, wire.commands_payload(commands), len(commands))

    def read(self, key: str) -> CachedList | None:
        return self.read_many([key])[0]

    # -- plumbing ----------------------------------------------------------------------------

    def _pipelined_scripts(self, queue, script) -> list[int | None]:
        """Run EVALSHAs queued by ``queue`` in one pipeline; on a cold script cache (a Redis
        restart), load the script and replay the whole batch, which is safe because every
        script here is idempotent. redis-py's own pipeline would ask SCRIPT EXISTS first,
        costing a second round trip on every call."""
        for attempt in (1, 2):
            with self.client.pipeline(transaction=False) as pipe:
                queue(pipe)
                results = pipe.execute(raise_on_error=False)
            if not any(isinstance(r, redis.exceptions.NoScriptError) for r in results):
                break
            if attempt == 2:
                raise redis.exceptions.NoScriptError("script vanished twice while fanning out")
            self.client.script_load(script.script)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return [None if r is None else int(r) for r in results]
