"""The Redis side of timelines: per-user home timelines and per-author outboxes.

Both are Redis lists of post ids, newest (highest id) first. Ids are stored as integers, which
Redis packs into listpacks at 5-10 bytes an entry. One marker may sit at the tail:

* ``0`` (COMPLETE): the list holds every relevant post; there is nothing older.
* ``-1`` (BUILDING): a rebuild from PostgreSQL is under way; readers treat the list as missing.

A list with no marker has been trimmed to its cap: it is exact for ids at or above its tail (its
"horizon") and readers go to PostgreSQL below that, so users can scroll past the cap.

Fan-out, the hot path, writes with one native ``LPUSHX`` per follower (no script): it never
creates a missing list, and its reply (the new length) tells the client when a list has grown
``trim_slack(cap)`` past its cap, so one trim script per that many posts cuts it back. So a list
is *nearly* sorted: concurrent chunk tasks may push ids out of order, always at the head. Hence:

* Readers (and every script) sort and drop duplicates; a list is a set of ids, not a sequence.
* The tail is written only by scripts (rebuild, insert, remove, trim), always as a marker or an
  id no lower than any id it cut off, so the horizon is the tail, not the lowest id: a late id
  below a trimmed list's horizon (pushed there, or kept by a trim's cut) is ignored by readers
  and dropped by the next script that rewrites the list.
* A replayed chunk (redelivered or retried task) must not push twice: the fan-out task claims
  each chunk with ``SET NX`` (``claim``) and a replay uses the deduplicating insert script.

A missing key means "not built". Writers (fan-out, follow backfill) never create a list, so a
list holding one fresh post is never mistaken for a whole timeline; readers rebuild missing
lists from PostgreSQL (``timelines.services``). That is why losing Redis loses nothing.

Every command and script touches exactly one key, and keys carry a Redis Cluster hash tag
(``tl:{42}``), so the store runs unchanged on a cluster. Scripts are idempotent (LPUSHX is not:
hence the chunk claims above), so replaying a fan-out chunk never duplicates an id.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import itertools
import operator
import time
from binascii import crc_hqx
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import hiredis
import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff, ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import Connection
from redis.crc import key_slot
from redis.retry import Retry

COMPLETE = 0
BUILDING = -1
# A BUILDING placeholder whose rebuilder died disappears on its own after this long.
BUILDING_TTL_MS = 60_000


# Claims on fan-out chunks outlive any redelivery (the broker's visibility timeout, 600 s by
# default) and retry schedule (about 10 minutes) by a wide margin.
CLAIM_TTL_MS = 6 * 3600 * 1000
RECV_BUFFER = 1 << 16
# Server settings the timeline Redis should run with (docker-compose.yml and scripts/services.sh
# pass them; make bench applies them for its run). Fan-out pushes at the head of ~800-id lists,
# and inserting at the head of a listpack moves the whole node: 4 KB nodes instead of the
# default 8 KB cost Redis 20-40% less CPU per push (make bench data: 0.30-0.47 s instead of
# 0.58-0.67 s for 300,000 pushes) for 10.29 bytes an entry instead of 10.24 (ids past 2**32).
# Count-based nodes (e.g. 128 entries) were as fast but 12.3 bytes an entry (allocator rounding).
REDIS_SERVER_SETTINGS = {"list-max-listpack-size": "-1"}


def trim_slack(cap: int) -> int:
    """How far past its cap fan-out lets a list grow before one trim script cuts it back:
    lists are trimmed once per this many posts instead of on every push."""
    return max(8, cap // 10)


def lpushx_payload(keys: Sequence[str], post_id: int) -> bytes:
    """``LPUSHX key post_id`` for each (ASCII) key, in order, packed as RESP in one buffer.
    Consecutive keys of one length share every byte between them, so each such run is one
    ``str.join`` (in C) instead of a formatted string per key: about 3x faster for 5,000."""
    value = str(post_id)
    tail = f"${len(value)}\r\n{value}\r\n"
    parts = []
    for length, run in itertools.groupby(keys, len):
        head = f"*3\r\n$6\r\nLPUSHX\r\n${length}\r\n"
        parts.append(head + f"\r\n{tail}{head}".join(run) + f"\r\n{tail}")
    return "".join(parts).encode("ascii")


def timeline_key(user_id: int) -> str:
    return f"tl:{{{user_id}}}"


def timeline_keys(user_ids: Iterable[int]) -> list[str]:
    """``timeline_key`` of each id: one join and one split in C rather than a call per id."""
    joined = "}\ntl:{".join(map(str, user_ids))
    return f"tl:{{{joined}}}".split("\n") if joined else []


def outbox_key(author_id: int) -> str:
    return f"ob:{{{author_id}}}"


@dataclass(frozen=True)
class CachedList:
    """A built timeline or outbox as read from Redis (markers stripped)."""

    ids: list[int]
    complete: bool

    @property
    def horizon(self) -> int:
        """Lowest id this list is exact for; 0 when it holds everything."""
        return 0 if self.complete or not self.ids else self.ids[-1]


# Shared Lua: merge sorted-descending arrays of numbers without duplicates, then write the
# result back with its marker, keeping the key's TTL.
_LUA_HELPERS = """
local function merge_desc(items, new, boundary)
  local out, added, prev = {}, 0, nil
  local i, j = 1, 1
  while true do
    local a, b = items[i], new[j]
    if a == nil and b == nil then break end
    local pick, fresh
    if b == nil or (a ~= nil and a >= b) then
      pick, fresh, i = a, false, i + 1
    else
      pick, fresh, j = b, true, j + 1
    end
    if pick ~= prev then
      if pick >= boundary then
        out[#out + 1] = pick
        if fresh then added = added + 1 end
      end
      prev = pick
    end
  end
  return out, added
end

-- The list's ids sorted descending without duplicates, and its marker (nil: trimmed). Fan-out
-- pushes at the head in any order; ids below a trimmed list's tail (its horizon) are late
-- arrivals that PostgreSQL serves, so they are dropped here.
local function read_list(key)
  local raw = redis.call('LRANGE', key, 0, -1)
  local n = #raw
  if n == 0 then return {}, nil end
  local marker, floor = tonumber(raw[n]), 1
  if marker > 0 then floor, marker = marker, nil else n = n - 1 end
  local ids = {}
  for k = 1, n do
    local id = tonumber(raw[k])
    if id >= floor then ids[#ids + 1] = id end
  end
  table.sort(ids, function(x, y) return x > y end)
  local items, prev = {}, nil
  for k = 1, #ids do
    if ids[k] ~= prev then items[#items + 1] = ids[k]; prev = ids[k] end
  end
  return items, marker
end

local function write_list(key, items, marker, cap)
  if #items > cap then
    for k = #items, cap + 1, -1 do items[k] = nil end
    if marker == 0 then marker = nil end
  end
  local ttl = redis.call('PTTL', key)
  redis.call('DEL', key)
  for k = 1, #items, 1000 do
    redis.call('RPUSH', key, unpack(items, k, math.min(k + 999, #items)))
  end
  if marker ~= nil then redis.call('RPUSH', key, marker) end
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end

-- Cut a list that fan-out let grow past cap back to cap entries. Usually one LTRIM: keeping
-- the first cap entries as they are is exact when the entry that becomes the tail (the new
-- horizon) is an id no lower than every id cut off, since the list then still holds every id
-- down to it; kept ids out of order below it are late arrivals that readers ignore and
-- PostgreSQL serves. That costs Redis a read of the cut-off entries and the cut, instead of
-- sorting and rewriting the whole list (~1 ms for 880 ids), which it does only when an id
-- out of order straddles the cut, or to keep a BUILDING marker.
local function trim_list(key, cap)
  local cut = redis.call('LRANGE', key, cap - 1, -1)
  local horizon = tonumber(cut[1])
  local fast = horizon ~= nil and horizon > 0 and tonumber(cut[#cut]) ~= -1
  for k = 2, #cut do
    if not fast then break end
    fast = tonumber(cut[k]) <= horizon
  end
  if fast then
    redis.call('LTRIM', key, 0, cap - 1)
  else
    local items, marker = read_list(key)
    write_list(key, items, marker, cap)
  end
end

local function sorted_args(from, floor, boundary)
  local new = {}
  for k = from, #ARGV do
    local id = tonumber(ARGV[k])
    if id > floor and id >= boundary then new[#new + 1] = id end
  end
  table.sort(new, function(x, y) return x > y end)
  return new
end
"""

# KEYS[1] list; ARGV[1] cap; ARGV[2] slack; ARGV[3] boundary (0: none); ARGV[4..] post ids in
# any order. Inserts ids without duplicates into an existing list, returning how many were
# added; a missing list is left missing and answers false (nil), so callers can tell "not
# built" from "already there" without another round trip. Ids below a trimmed list's
# horizon are dropped: PostgreSQL serves that range.
# boundary > 0 says the caller's ids are exhaustive only down to boundary, so the list is cut
# there and stops claiming COMPLETE, which keeps it exact above its new tail.
_INSERT_LUA = (
    _LUA_HELPERS
    + """
local key = KEYS[1]
local tail = redis.call('LINDEX', key, -1)
if not tail then return false end
local cap, slack, boundary = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if #ARGV == 4 and boundary == 0 then
  -- Fast path, the fan-out replay and own-post case: one id, pushed at the head like LPUSHX
  -- unless it is already there or below the horizon; trimmed lazily like fan-out.
  if redis.call('LPOS', key, ARGV[4]) then return 0 end
  tail = tonumber(tail)
  if tail > 0 and tonumber(ARGV[4]) < tail then return 0 end
  if redis.call('LPUSH', key, ARGV[4]) > cap + slack then trim_list(key, cap) end
  return 1
end
local items, marker = read_list(key)
local floor = -1
if marker == nil then floor = items[#items] - 1 end
local new = sorted_args(4, floor, boundary)
local out, added = merge_desc(items, new, boundary)
if boundary > 0 and marker == 0 then marker = nil end
if #out == 0 and marker == nil then return 0 end
write_list(key, out, marker, cap)
return added
"""
)

# KEYS[1] list; ARGV[1] cap. Cuts a list that fan-out let grow past its cap back to it (see
# trim_list); returns 1 if it cut the list. Concurrent trims are harmless.
_TRIM_LUA = (
    _LUA_HELPERS
    + """
if redis.call('LLEN', KEYS[1]) <= tonumber(ARGV[1]) then return 0 end
trim_list(KEYS[1], tonumber(ARGV[1]))
return 1
"""
)

# KEYS[1] list; ARGV[1..] post ids to drop. Used when you unfollow, block or mute someone.
_REMOVE_LUA = (
    _LUA_HELPERS
    + """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local drop = {}
for k = 1, #ARGV do drop[tonumber(ARGV[k])] = true end
local items, marker = read_list(key)
local kept = {}
for k = 1, #items do
  if not drop[items[k]] then kept[#kept + 1] = items[k] end
end
local removed = #items - #kept
if removed == 0 then return 0 end
if #kept == 0 and marker == nil then
  redis.call('DEL', key)  -- nothing left to vouch for: rebuilt on the next read
else
  write_list(key, kept, marker, #kept)
end
return removed
"""
)

# KEYS[1] list. Marks a missing list BUILDING so fan-out starts adding to it while PostgreSQL
# is queried; returns 1 if it placed the marker.
_REBUILD_BEGIN_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS[1] list; ARGV[1] cap; ARGV[2] complete (1/0); ARGV[3] ttl in ms; ARGV[4..] ids from
# PostgreSQL. Writes the union of the ids and whatever fan-out added since the rebuild began,
# expiring in ttl ms (at once if ttl <= 0). Returns 0 without writing if the list vanished
# meanwhile (flushed): fan-outs since then were dropped, so the ids may be stale and the
# caller must start over.
_REBUILD_FINISH_LUA = (
    _LUA_HELPERS
    + """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local cap, complete = tonumber(ARGV[1]), ARGV[2] == '1'
local items = read_list(key)
local new = sorted_args(4, -1, 0)
local out = merge_desc(items, new, 0)
local marker = nil
if complete then marker = 0 end
write_list(key, out, marker, cap)
redis.call('PEXPIRE', key, ARGV[3])
return 1
"""
)


# KEYS[1] list; ARGV[1] ttl in ms. Sets the expiry of a built list; leaves a missing list
# missing and a BUILDING placeholder with its short expiry (a dead rebuilder's marker must
# still vanish soon). Returns 1 if the expiry was set.
_TOUCH_LUA = """
local tail = redis.call('LINDEX', KEYS[1], -1)
if not tail or tail == '-1' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class ListState(enum.Enum):
    MISSING = "missing"
    BUILDING = "building"
    BUILT = "built"


class TimelineStore:
    """Single-key list operations on one Redis (or, later, a cluster: see module docs)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._insert = client.register_script(_INSERT_LUA)
        self._remove = client.register_script(_REMOVE_LUA)
        self._rebuild_begin = client.register_script(_REBUILD_BEGIN_LUA)
        self._rebuild_finish = client.register_script(_REBUILD_FINISH_LUA)
        self._touch = client.register_script(_TOUCH_LUA)
        self._trim = client.register_script(_TRIM_LUA)

    # -- writes ------------------------------------------------------------------------------

    def push_to_many(self, *, keys: Sequence[str], post_id: int, cap: int, dedup: bool = False) -> int:
        """Fan-out: push one post id onto the head of many existing lists; missing lists stay
        missing. Returns how many lists gained the id (on the LPUSHX path this includes a late
        id pushed below a trimmed list's horizon, which readers ignore).

        ``dedup=False`` (a chunk's first delivery) sends one native ``LPUSHX`` per key as
        pre-built RESP in one round trip, then, only for the lists its replies show past
        ``cap + trim_slack(cap)``, one trim script each in a second round trip. It does not
        look for the id first, so pushing the same id twice stores it twice: callers must pass
        ``dedup=True`` for anything that may be a replay (see ``claim``), which runs the
        deduplicating insert script per key instead (about 4x the server cost).

        Every command touches one key, so on Redis Cluster the keys may be grouped by node and
        each group sent as its own call (``lpushx_payload`` builds the bytes for one group).
        """
        if not keys:
            return 0
        if dedup:
            sha, args = self._insert.sha, (cap, trim_slack(cap), 0, post_id)

            def queue_inserts(pipe: redis.client.Pipeline) -> None:
                for key in keys:
                    pipe.evalsha(sha, 1, key, *args)

            return sum(added or 0 for added in self._pipelined_scripts(queue_inserts, self._insert))

        lengths = self._send_raw(lpushx_payload(keys, post_id), len(keys))
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

    def claim(self, *, key: str, ttl_ms: int = CLAIM_TTL_MS) -> bool:
        """Mark a unit of work (a fan-out chunk) as started: True the first time, False if it
        was claimed before, i.e. this run is a replay and must deduplicate."""
        return bool(self.client.set(key, 1, nx=True, px=ttl_ms))

    def insert(self, *, key: str, post_ids: Iterable[int], cap: int, boundary: int = 0) -> int | None:
        """Insert ids into one list; the number added, or None if the list does not exist."""
        ids = list(post_ids)
        if not ids:
            return 0
        added = self._insert(keys=[key], args=[cap, trim_slack(cap), boundary, *ids])
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
        """Write a rebuilt list (see _REBUILD_FINISH_LUA), expiring ``ttl_ms`` from now: every
        list is created with an expiry, in the same script."""
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

    def read_many(self, keys: Sequence[str]) -> list[CachedList | None]:
        """Read whole lists in one round trip; None for a missing or still-building list."""
        if not keys:
            return []
        if len(keys) == 1:  # most feed reads (outboxes come from the local copy): no pipeline
            return [_parse(self.client.lrange(keys[0], 0, -1))]
        with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.lrange(key, 0, -1)
            raw_lists = pipe.execute()
        return [_parse(raw) for raw in raw_lists]

    def read(self, key: str) -> CachedList | None:
        return self.read_many([key])[0]

    # -- plumbing ----------------------------------------------------------------------------

    def _send_raw(self, payload: bytes, count: int) -> list[int]:
        """Send pre-packed commands on one pooled connection and parse their ``count`` integer
        replies with hiredis in bulk: a pipeline without redis-py's per-command packing and
        per-reply parsing, which cost more than Redis itself for thousands of tiny commands.
        Every reply is read even after an error reply, so the connection returns to the pool
        in sync; any other failure discards the connection."""
        pool = self.client.connection_pool
        connection = pool.get_connection()
        try:
            _send_packed(connection, payload)
            replies = _read_replies(connection, count)
        finally:
            pool.release(connection)
        for reply in replies:
            if isinstance(reply, hiredis.ReplyError):
                raise redis.exceptions.ResponseError(str(reply))
        return replies

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


def _send_packed(connection: Connection, payload: bytes) -> None:
    try:
        connection.send_packed_command([payload])
    except BaseException:
        connection.disconnect()
        raise


def _read_replies(connection: Connection, count: int) -> list:
    """Read ``count`` replies with hiredis in bulk (error replies come back as
    ``hiredis.ReplyError`` values). Every reply is read even after an error reply, so the
    connection goes back to its pool in sync; any other failure discards the connection."""
    replies: list = []
    try:
        reader = hiredis.Reader()
        sock = connection._sock  # redis-py has no public bulk-read API
        while len(replies) < count:
            data = sock.recv(RECV_BUFFER)
            if not data:
                raise redis.exceptions.ConnectionError("Redis closed the connection mid-reply")
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
    except TimeoutError as exc:  # socket.timeout
        connection.disconnect()
        raise redis.exceptions.TimeoutError(f"timeout reading fan-out replies: {exc}") from exc
    except OSError as exc:
        connection.disconnect()
        raise redis.exceptions.ConnectionError(f"error reading fan-out replies: {exc}") from exc
    except BaseException:
        connection.disconnect()
        raise
    return replies


def _parse(raw: list[bytes]) -> CachedList | None:
    if not raw:
        return None
    tail = int(raw[-1])
    if tail == BUILDING:
        return None
    # Fan-out pushes at the head in any order (see module docs): sort, drop duplicates, and
    # ignore late ids below a trimmed list's horizon, which is its tail.
    values = list(map(int, raw))
    if all(map(operator.gt, values, itertools.islice(values, 1, None))):
        # Strictly descending, as nearly every list is: no sort, no duplicate to drop. Only a
        # COMPLETE marker can be below the horizon (a trimmed list ends at its horizon).
        return CachedList(ids=values[:-1] if tail == COMPLETE else values, complete=tail == COMPLETE)
    floor = 1 if tail == COMPLETE else tail
    ids = sorted({post_id for post_id in values if post_id >= floor}, reverse=True)
    return CachedList(ids=ids, complete=tail == COMPLETE)


class ReplicaAckTimeout(redis.exceptions.TimeoutError):
    """A cluster shard applied a write but not enough of its replicas confirmed it in time.
    The write is retried (Celery autoretry on TimeoutError): scripts are idempotent, and a
    failover in the meantime would otherwise have lost it."""


# What a cluster answers while a failover or slot move is under way: worth retrying.
CLUSTER_TRANSIENT_ERRORS = (
    redis.exceptions.ClusterError,  # CLUSTERDOWN, MASTERDOWN, redis-py's retries exhausted
    redis.exceptions.MovedError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ReadOnlyError,  # a demoted master
    redis.exceptions.SlotNotCoveredError,
)
# Errors after which a command is sent again, to wherever the refreshed topology says.
_CLUSTER_RETRY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, *CLUSTER_TRANSIENT_ERRORS)
_CLUSTER_ATTEMPTS = 4
_CLUSTER_BACKOFF_S = 0.05


def _resp(*args: object) -> bytes:
    """One command as RESP bytes."""
    parts = [str(arg).encode() for arg in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


_TRANSIENT_PREFIXES = ("MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "LOADING")


def _is_transient(reply: object) -> bool:
    """A reply after which a key's outcome is unknown or it belongs elsewhere now."""
    if isinstance(reply, hiredis.ReplyError):
        return str(reply).startswith(_TRANSIENT_PREFIXES)
    return isinstance(reply, _CLUSTER_RETRY)


@dataclass
class _NodeBatch:
    """Commands for one cluster node, written in one go and read back in order."""

    node: ClusterNode
    indexes: list[int]
    asking: bool = False
    acks_wanted: int = 0


class ClusterTimelineStore(TimelineStore):
    """The same operations on a Redis Cluster (redis-py's ``RedisCluster``).

    Every operation touches one key and keys carry a hash tag, so single-key calls, reads and
    rebuilds go through redis-py as they are (it follows MOVED/ASK and reloads scripts).
    Writes that add posts (fan-out chunks, inserts) go through ``_scripts_per_node``: keys
    grouped by the master owning their slot, one pipeline per master, all masters written
    before any is read, so a chunk costs one round trip per node, not per follower. Each
    node's pipeline ends with ``WAIT``, so a post is reported delivered only once a replica
    holds it: a master that dies right after cannot take it with it.
    """

    def __init__(self, client: RedisCluster, *, replica_acks: int = 1, ack_timeout_ms: int = 200) -> None:
        super().__init__(client)
        self.replica_acks = replica_acks
        self.ack_timeout_ms = ack_timeout_ms
        self._owners: tuple[list[int], list[tuple[ClusterNode, int]]] = ([], [])
        self._owners_source: object = None

    def push_to_many(self, *, keys: Sequence[str], post_id: int, cap: int, dedup: bool = False) -> int:
        """The single-Redis fan-out, per master: a first delivery sends each master its keys'
        ``LPUSHX`` as one pre-packed buffer (plus ``WAIT``), all masters before reading any,
        so a chunk costs one round trip per node. Keys whose outcome is unknown (a connection
        lost mid-batch, a failover, MOVED/ASK/TRYAGAIN) are not pushed again but go through
        the deduplicating insert script, which does survive resending; so do replays
        (``dedup``). Lists past their cap plus slack are trimmed as on a single Redis."""
        if not keys:
            return 0
        insert_args = (cap, trim_slack(cap), 0, post_id)
        if dedup:
            results = self._scripts_per_node(self._insert, [(key, insert_args) for key in keys])
            return sum(added or 0 for added in results)
        try:
            batches = self._batches_by_node(keys, range(len(keys)), {})
        except _CLUSTER_RETRY:
            batches = []  # no slot map right now (mid-failover): every key takes the slow path
        lengths = [0] * len(keys)  # LPUSHX replies: a list's new length, 0 if it is missing
        unknown = [] if batches else list(range(len(keys)))
        unconfirmed = None
        for batch, replies, ack_error in self._lpushx_batches(keys, post_id, batches):
            for index, reply in zip(batch.indexes, replies, strict=True):
                if type(reply) is int:
                    lengths[index] = reply
                elif isinstance(reply, Exception | hiredis.ReplyError) and _is_transient(reply):
                    unknown.append(index)
                else:
                    raise redis.exceptions.ResponseError(str(reply))
            unconfirmed = unconfirmed or ack_error
        if unknown:
            if batches:  # something moved or failed: take a fresh slot map first
                with contextlib.suppress(*_CLUSTER_RETRY):
                    self.client.nodes_manager.initialize()
            results = self._scripts_per_node(self._insert, [(keys[i], insert_args) for i in unknown])
            for index, added in zip(unknown, results, strict=True):
                lengths[index] = 1 if added else 0
        limit = cap + trim_slack(cap)
        overfull = [key for key, length in zip(keys, lengths, strict=True) if length > limit]
        if overfull:
            self._scripts_per_node(self._trim, [(key, (cap,)) for key in overfull])
        if unconfirmed is not None:
            self.client.nodes_manager.initialize()
            raise unconfirmed  # retried as a replay: the insert script deduplicates
        return len(keys) - lengths.count(0)

    def _lpushx_batches(
        self, keys: Sequence[str], post_id: int, batches: list[_NodeBatch]
    ) -> list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]]:
        """Each master's LPUSHX buffer (and WAIT) in one round trip per master, the replies
        parsed in bulk (error replies as ``hiredis.ReplyError`` values)."""

        def payload(batch: _NodeBatch) -> bytes:
            packed = lpushx_payload([keys[i] for i in batch.indexes], post_id)
            if batch.acks_wanted:
                packed += _resp("WAIT", batch.acks_wanted, self.ack_timeout_ms)
            return packed

        def read(batch: _NodeBatch, node_client: redis.Redis, connection: Connection) -> list:
            return _read_replies(connection, len(batch.indexes) + (1 if batch.acks_wanted else 0))

        return self._round_trips(batches, payload=payload, read=read)

    def _round_trips(
        self,
        batches: list[_NodeBatch],
        *,
        payload: Callable[[_NodeBatch], bytes],
        read: Callable[[_NodeBatch, redis.Redis, Connection], list],
    ) -> list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]]:
        """Write every node's batch, then read every node's replies, so the nodes work in
        parallel. ``payload`` packs a batch (WAIT last when acks are wanted); ``read`` returns
        its replies in order, one per key plus WAIT's. Returns each batch with one reply (or
        exception) per key, and an error if its replicas did not confirm the writes in time.
        A node that fails mid-way (a failover, a move) gives that error as every reply, and
        its connection is dropped: unread replies would poison the connection's next user."""
        sent: list[tuple[_NodeBatch, redis.Redis, Connection, Exception | None]] = []
        outcomes: list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]] = []
        try:
            for batch in batches:
                try:
                    node_client = self.client.get_redis_connection(batch.node)
                    connection = node_client.connection_pool.get_connection()
                except _CLUSTER_RETRY as exc:
                    outcomes.append((batch, [exc] * len(batch.indexes), None))
                    continue
                error = None
                try:
                    _send_packed(connection, payload(batch))
                except _CLUSTER_RETRY as exc:
                    error = exc
                sent.append((batch, node_client, connection, error))
            for batch, node_client, connection, error in sent:
                if error is None:
                    try:
                        replies = read(batch, node_client, connection)
                    except _CLUSTER_RETRY as exc:
                        error = exc
                if error is not None:
                    connection.disconnect()
                    outcomes.append((batch, [error] * len(batch.indexes), None))
                    continue
                outcomes.append((batch, *self._split_ack(batch, replies)))
        finally:
            for _batch, node_client, connection, _error in sent:
                node_client.connection_pool.release(connection)
        return outcomes

    def insert(self, *, key: str, post_ids: Iterable[int], cap: int, boundary: int = 0) -> int | None:
        ids = list(post_ids)
        if not ids:
            return 0
        return self._scripts_per_node(self._insert, [(key, (cap, trim_slack(cap), boundary, *ids))])[0]

    def _scripts_per_node(self, script, calls: Sequence[tuple[str, tuple]]) -> list[int | None]:
        """Run ``script`` once per (key, args), one pipelined round trip per master.

        Commands that meet a failover or a slot move (connection errors, MOVED, TRYAGAIN,
        CLUSTERDOWN) are sent again after a topology refresh, ASK ones to the node named,
        NOSCRIPT ones after loading the script there (a promoted replica has no script
        cache); all safe because the scripts are idempotent. Gives up after a few quick tries
        with the last error, and at once when a shard's replicas did not confirm its writes
        (ReplicaAckTimeout); the fan-out task retries either with backoff.
        """
        results: list[int | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        ask_targets: dict[int, ClusterNode] = {}
        last_error: Exception | None = None
        failures = 0  # round trips that met a failover or a move; loading a script is not one
        for _ in range(2 * _CLUSTER_ATTEMPTS):
            if failures >= _CLUSTER_ATTEMPTS:
                break
            time.sleep(_CLUSTER_BACKOFF_S * failures)
            try:
                batches = self._batches_by_node([key for key, _ in calls], pending, ask_targets)
            except _CLUSTER_RETRY as exc:  # no node for a slot yet: mid-failover
                last_error, failures = exc, failures + 1
                self.client.nodes_manager.initialize()
                continue
            pending, ask_targets, refresh, unconfirmed, loaded = [], {}, False, None, set()
            for batch, replies, ack_error in self._send_batches(script.sha, calls, batches):
                for index, reply in zip(batch.indexes, replies, strict=True):
                    if isinstance(reply, _CLUSTER_RETRY):
                        refresh = True
                    elif isinstance(reply, redis.exceptions.AskError):
                        ask_targets[index] = self._node(reply.host, reply.port)
                    elif isinstance(reply, redis.exceptions.NoScriptError):
                        if batch.node.name not in loaded:
                            self.client.get_redis_connection(batch.node).script_load(script.script)
                            loaded.add(batch.node.name)
                    elif isinstance(reply, Exception):
                        raise reply
                    else:
                        results[index] = None if reply is None else int(reply)
                        if ack_error is None:
                            continue
                        unconfirmed = ack_error
                    last_error = reply
                    pending.append(index)
            if unconfirmed is not None:
                # Waiting longer here would only hold the worker: the task retries later,
                # against a refreshed topology (a replica that died no longer counts).
                self.client.nodes_manager.initialize()
                raise unconfirmed
            if not pending:
                return results
            if refresh or ask_targets:
                failures += 1
            if refresh:
                self.client.nodes_manager.initialize()
        raise last_error

    def _node(self, host: str, port: int) -> ClusterNode:
        nodes = self.client.nodes_manager
        return nodes.get_node(host=host, port=port) or ClusterNode(host, port)

    def _batches_by_node(
        self, keys: Sequence[str], indexes: Iterable[int], ask_targets: dict[int, ClusterNode]
    ) -> list[_NodeBatch]:
        """Group keys by the master owning their slot, or by the node an ASK named. The hot
        loop of a cluster fan-out: a few string operations and list lookups per key."""
        owners, masters = self._slot_owners()
        per_master: list[list[int]] = [[] for _ in masters]
        asked: dict[str, _NodeBatch] = {}
        for index in indexes:
            if ask_targets and index in ask_targets:
                node = ask_targets[index]
                batch = asked.get(node.name)
                if batch is None:
                    batch = asked[node.name] = _NodeBatch(node, [], True, self.replica_acks)
                batch.indexes.append(index)
                continue
            key = keys[index]
            start = key.find("{")  # keys carry a hash tag; key_slot handles any other key
            end = key.find("}", start + 2) if start >= 0 else -1
            slot = crc_hqx(key[start + 1 : end].encode(), 0) & 16383 if end > 0 else key_slot(key.encode())
            owner = owners[slot]
            if owner < 0:
                raise redis.exceptions.SlotNotCoveredError(f"no node serves {key}")
            per_master[owner].append(index)
        batches = [
            _NodeBatch(node, group, False, acks)
            for (node, acks), group in zip(masters, per_master, strict=True)
            if group
        ]
        return batches + list(asked.values())

    def _slot_owners(self) -> tuple[list[int], list[tuple[ClusterNode, int]]]:
        """Per slot, the index of its master in a list of (master, replica acks to wait for);
        rebuilt whenever redis-py loads a new slot map (a map it patches in place after a
        MOVED elsewhere is caught by our own MOVED handling)."""
        slots = self.client.nodes_manager.slots_cache
        if self._owners_source is not slots:
            owners, masters, position = [-1] * 16384, [], {}
            for slot, nodes in slots.items():
                if not nodes:
                    continue
                if nodes[0].name not in position:
                    position[nodes[0].name] = len(masters)
                    masters.append((nodes[0], min(self.replica_acks, len(nodes) - 1)))
                owners[slot] = position[nodes[0].name]
            self._owners, self._owners_source = (owners, masters), slots
        return self._owners

    def _send_batches(
        self, sha: str, calls: Sequence[tuple[str, tuple]], batches: list[_NodeBatch]
    ) -> list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]]:
        """Each node's EVALSHAs (after ASKING for a node an ASK named, and WAIT) in one round
        trip per node, each reply parsed by redis-py, so MOVED, ASK and NOSCRIPT come back as
        its exceptions."""

        commands: dict[int, list[tuple]] = {}  # id(batch) -> its commands, in order
        for batch in batches:
            batch_commands = commands[id(batch)] = []
            for index in batch.indexes:
                if batch.asking:
                    batch_commands.append(("ASKING",))
                key, args = calls[index]
                batch_commands.append(("EVALSHA", sha, 1, key, *args))
            if batch.acks_wanted:
                batch_commands.append(("WAIT", batch.acks_wanted, self.ack_timeout_ms))

        def payload(batch: _NodeBatch) -> bytes:
            return b"".join(_resp(*command) for command in commands[id(batch)])

        def read(batch: _NodeBatch, node_client: redis.Redis, connection: Connection) -> list:
            replies = []
            for command in commands[id(batch)]:
                try:
                    reply = node_client.parse_response(connection, command[0])
                except redis.exceptions.ResponseError as exc:
                    reply = exc
                if command[0] != "ASKING":  # its OK is not a key's reply
                    replies.append(reply)
            return replies

        return self._round_trips(batches, payload=payload, read=read)

    def _split_ack(self, batch: _NodeBatch, replies: list) -> tuple[list, ReplicaAckTimeout | None]:
        """Take the WAIT reply off a batch's replies; an error if too few replicas confirmed."""
        if not batch.acks_wanted:
            return replies, None
        acked = replies[-1]
        if isinstance(acked, int) and acked >= batch.acks_wanted:
            return replies[:-1], None
        return replies[:-1], ReplicaAckTimeout(
            f"{batch.node.name}: {acked}/{batch.acks_wanted} replicas confirmed the write within "
            f"{self.ack_timeout_ms} ms"
        )


def get_store() -> TimelineStore:
    """The process's timeline store, built once per configuration (tests switch between a
    single Redis and a cluster through settings)."""
    return _store_for(tuple(settings.TIMELINE_REDIS_CLUSTER_NODES), settings.TIMELINE_REDIS_URL)


@functools.cache
def _store_for(cluster_nodes: tuple[str, ...], url: str) -> TimelineStore:
    timeouts = {"socket_connect_timeout": 2, "socket_timeout": 5}
    if not cluster_nodes:
        # One quick retry for a blip; redis-py's default (10, with backoff) would hold every
        # request for seconds while Redis is down instead of degrading to PostgreSQL at once.
        retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), 1)
        return TimelineStore(redis.Redis.from_url(url, health_check_interval=30, retry=retry, **timeouts))
    startup = []
    for node in cluster_nodes:
        host, _, port = node.rpartition(":")
        startup.append(ClusterNode(host, int(port)))
    client = RedisCluster(
        startup_nodes=startup,
        # A web request should fail fast during a failover (the feed degrades); fan-out
        # tasks retry with backoff until the replica has taken over.
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        **timeouts,
    )
    return ClusterTimelineStore(
        client,
        replica_acks=settings.TIMELINE_REDIS_REPLICA_ACKS,
        ack_timeout_ms=settings.TIMELINE_REDIS_REPLICA_ACK_TIMEOUT_MS,
    )


get_store.cache_clear = _store_for.cache_clear  # type: ignore[attr-defined]
