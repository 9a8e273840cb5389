"""``ClusterTimelineStore``: the same operations on a Redis Cluster, and its error table.

Every operation touches one key and keys carry a hash tag (docs/architecture.md#timeline-store),
so single-key calls go through redis-py as they are. Batched writes are grouped by the master
owning each key's slot, all masters written before any is read (one round trip per node), and
each node's batch ends with ``WAIT``: a post counts as delivered only once a replica holds it.
A key whose outcome is unknown is resent through the idempotent insert script, never pushed
twice (docs/architecture.md#failures).
"""

from __future__ import annotations

import contextlib
import time
from binascii import crc_hqx
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import hiredis
import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import Connection
from redis.crc import key_slot

from timelines.keys import READER_CHANNEL_PREFIX
from timelines.store.errors import CLUSTER_RETRY, ReplicaAckTimeout, is_transient
from timelines.store.lists import trim_slack
from timelines.store.single import TimelineStore
from timelines.store.wire import evalsha_payload, lpushx_payload, read_replies, resp, send_packed

_CLUSTER_ATTEMPTS = 4
_CLUSTER_BACKOFF_S = 0.05


@dataclass
class _NodeBatch:
    """Commands for one cluster node, written in one go and read back in order."""

    node: ClusterNode
    indexes: list[int]
    asking: bool = False
    acks_wanted: int = 0


class ClusterTimelineStore(TimelineStore):
    """The store's operations on a Redis Cluster (redis-py's ``RedisCluster``). Reads,
    rebuilds and single-key calls go through redis-py as they are (it follows MOVED/ASK and
    reloads scripts); batched writes through ``_scripts_per_node`` (see the module docs)."""

    def __init__(self, client: RedisCluster, *, replica_acks: int = 1, ack_timeout_ms: int = 200) -> None:
        super().__init__(client)
        self.replica_acks = replica_acks
        self.ack_timeout_ms = ack_timeout_ms
        self._owners: tuple[list[int], list[tuple[ClusterNode, int]]] = ([], [])
        self._owners_source: object = None

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
        """The single-Redis fan-out, per master: a first delivery sends each master its keys'
        ``LPUSHX`` as one pre-packed buffer (plus ``WAIT``), all masters before reading any,
        so a chunk costs one round trip per node. Keys whose outcome is unknown (a connection
        lost mid-batch, a failover, MOVED/ASK/TRYAGAIN) are not pushed again but go through
        the deduplicating insert script, which does survive resending; so do replays
        (``replay``). Lists past their cap plus slack are trimmed as on a single Redis.
        ``message``: published as on a single Redis, each master's share of the markers in
        its own round trip (a PUBLISH on any node reaches every node's subscribers); a node
        whose publish failed or was not run is published to once more afterwards."""
        if not keys:
            return 0
        insert_args = (cap, trim_slack(cap), 0, 0, post_id)
        if replay:
            results = self._scripts_per_node(self._insert, [(key, insert_args) for key in keys])
            if message:
                self.publish_marked(markers=markers, message=message)
            return sum(added or 0 for added in results)
        try:
            batches = self._batches_by_node(keys, range(len(keys)), {})
        except CLUSTER_RETRY:
            batches = []  # no slot map right now (mid-failover): every key takes the slow path
        lengths = [0] * len(keys)  # LPUSHX replies: a list's new length, 0 if it is missing
        unknown = [] if batches else list(range(len(keys)))
        unconfirmed = None
        unpublished = [] if batches or not message else list(range(len(keys)))
        sent = self._lpushx_batches(keys, post_id, batches, markers=markers, message=message)
        for batch, replies, ack_error in sent:
            if message:
                published = replies[-1]
                replies = replies[:-1]
                if not isinstance(published, int):  # NOSCRIPT, or the node failed mid-way
                    unpublished += batch.indexes
            for index, reply in zip(batch.indexes, replies, strict=True):
                if type(reply) is int:
                    lengths[index] = reply
                elif isinstance(reply, Exception | hiredis.ReplyError) and is_transient(reply):
                    unknown.append(index)
                else:
                    raise redis.exceptions.ResponseError(str(reply))
            unconfirmed = unconfirmed or ack_error
        if unknown:
            if batches:  # something moved or failed: take a fresh slot map first
                with contextlib.suppress(*CLUSTER_RETRY):
                    self.client.nodes_manager.initialize()
            results = self._scripts_per_node(self._insert, [(keys[i], insert_args) for i in unknown])
            for index, added in zip(unknown, results, strict=True):
                lengths[index] = 1 if added else 0
        limit = cap + trim_slack(cap)
        overfull = [key for key, length in zip(keys, lengths, strict=True) if length > limit]
        if overfull:
            self._scripts_per_node(self._trim, [(key, (cap,)) for key in overfull])
        if unpublished:
            self.publish_marked(markers=[markers[i] for i in unpublished], message=message)
        if unconfirmed is not None:
            self.client.nodes_manager.initialize()
            raise unconfirmed  # retried as a replay: the insert script deduplicates
        return len(keys) - lengths.count(0)

    def _lpushx_batches(
        self,
        keys: Sequence[str],
        post_id: int,
        batches: list[_NodeBatch],
        *,
        markers: Sequence[str] = (),
        message: str = "",
    ) -> list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]]:
        """Each master's LPUSHX buffer (then, with ``message``, its markers' publish script,
        whose reply comes last; then WAIT) in one round trip per master, the replies parsed in
        bulk (error replies as ``hiredis.ReplyError`` values)."""
        extra = 1 if message else 0

        def payload(batch: _NodeBatch) -> bytes:
            packed = lpushx_payload([keys[i] for i in batch.indexes], post_id)
            if message:
                head = self._publish_head(message)
                packed += evalsha_payload(self._publish.sha, head, [markers[i] for i in batch.indexes])
            if batch.acks_wanted:
                packed += resp("WAIT", batch.acks_wanted, self.ack_timeout_ms)
            return packed

        def read(batch: _NodeBatch, node_client: redis.Redis, connection: Connection) -> list:
            return read_replies(connection, len(batch.indexes) + extra + (1 if batch.acks_wanted else 0))

        return self._round_trips(batches, payload=payload, read=read, extra=extra)

    def publish_marked(self, *, markers: Sequence[str], message: str) -> int:
        """Each master's markers through the publish script, one call per master (redis-py
        loads the script where a node lost it); a failure raises and the task retries."""
        if not markers:
            return 0
        sent = 0
        for batch in self._batches_by_node(markers, range(len(markers)), {}):
            node_client = self.client.get_redis_connection(batch.node)
            script = node_client.register_script(self._publish.script)
            args = [*self._publish_head(message), *(markers[i] for i in batch.indexes)]
            sent += int(script(keys=[], args=args))
        return sent

    def _publish_head(self, message: str) -> tuple[str, str, str]:
        return (message, READER_CHANNEL_PREFIX, "1")

    def _round_trips(
        self,
        batches: list[_NodeBatch],
        *,
        payload: Callable[[_NodeBatch], bytes],
        read: Callable[[_NodeBatch, redis.Redis, Connection], list],
        extra: int = 0,
    ) -> list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]]:
        """Write every node's batch, then read every node's replies, so the nodes work in
        parallel. ``payload`` packs a batch (WAIT last when acks are wanted); ``read`` returns
        its replies in order, one per key, ``extra`` more, then WAIT's. Returns each batch with
        one reply (or exception) per key (and ``extra``), and an error if its replicas did not
        confirm the writes in time. A node that fails mid-way (a failover, a move) gives that
        error as every reply, and its connection is dropped: unread replies would poison the
        connection's next user."""
        sent: list[tuple[_NodeBatch, redis.Redis, Connection, Exception | None]] = []
        outcomes: list[tuple[_NodeBatch, list, ReplicaAckTimeout | None]] = []
        try:
            for batch in batches:
                try:
                    node_client = self.client.get_redis_connection(batch.node)
                    connection = node_client.connection_pool.get_connection()
                except CLUSTER_RETRY as exc:
                    outcomes.append((batch, [exc] * (len(batch.indexes) + extra), None))
                    continue
                error = None
                try:
                    send_packed(connection, payload(batch))
                except CLUSTER_RETRY as exc:
                    error = exc
                sent.append((batch, node_client, connection, error))
            for batch, node_client, connection, error in sent:
                if error is None:
                    try:
                        replies = read(batch, node_client, connection)
                    except CLUSTER_RETRY as exc:
                        error = exc
                if error is not None:
                    connection.disconnect()
                    outcomes.append((batch, [error] * (len(batch.indexes) + extra), None))
                    continue
                outcomes.append((batch, *self._split_ack(batch, replies)))
        finally:
            for _batch, node_client, connection, _error in sent:
                node_client.connection_pool.release(connection)
        return outcomes

    def _read_commands(self, commands: Sequence[tuple]) -> list:
        """Replies of read-only commands, each routed to its key's node by the cluster
        pipeline (one round trip per node)."""
        with self.client.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            return pipe.execute()

    def insert(
        self, *, key: str, post_ids: Iterable[int], cap: int, boundary: int = 0, ordered: bool = False
    ) -> int | None:
        ids = list(post_ids)
        if not ids:
            return 0
        args = (cap, trim_slack(cap), boundary, int(ordered), *ids)
        return self._scripts_per_node(self._insert, [(key, args)])[0]

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
            except CLUSTER_RETRY as exc:  # no node for a slot yet: mid-failover
                last_error, failures = exc, failures + 1
                self.client.nodes_manager.initialize()
                continue
            pending, ask_targets, refresh, unconfirmed, loaded = [], {}, False, None, set()
            for batch, replies, ack_error in self._send_batches(script.sha, calls, batches):
                for index, reply in zip(batch.indexes, replies, strict=True):
                    if isinstance(reply, CLUSTER_RETRY):
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
            return b"".join(resp(*command) for command in commands[id(batch)])

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
