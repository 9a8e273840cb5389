"""The cluster side of the timeline store, on the suite's real local Redis Cluster: client
selection, per-node pipelining, and redirections (MOVED, ASK) and lost script caches."""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster
from redis.crc import key_slot

from timelines.keys import timeline_key
from timelines.store import (
    COMPLETE,
    ClusterTimelineStore,
    TimelineStore,
    get_store,
    trim_slack,
)

pytestmark = pytest.mark.parametrize("timeline_backend", ["cluster"], indirect=True)

USERS = range(1, 301)
KEYS = [timeline_key(u) for u in USERS]


class RecordingStore(ClusterTimelineStore):
    """Records the per-node batches each round trip sends."""

    def __init__(self, client: RedisCluster) -> None:
        super().__init__(client, replica_acks=1, ack_timeout_ms=1000)
        self.round_trips: list[list[tuple[str, int]]] = []

    def _send_batches(self, sha, calls, batches):
        self.round_trips.append([(b.node.name, len(b.indexes)) for b in batches])
        return super()._send_batches(sha, calls, batches)

    def _lpushx_batches(self, keys, post_id, batches, **publish):
        self.round_trips.append([(b.node.name, len(b.indexes)) for b in batches])
        return super()._lpushx_batches(keys, post_id, batches, **publish)


def build(store: TimelineStore, keys) -> None:
    for key in keys:
        store.rebuild_begin(key=key)
        store.rebuild_finish(key=key, post_ids=[], cap=800, complete=True, ttl_ms=3_600_000)


def test_cluster_nodes_setting_selects_the_cluster_client(redis_store, redis_cluster):
    assert isinstance(get_store(), ClusterTimelineStore)
    assert isinstance(get_store().client, RedisCluster)
    assert {n.name for n in get_store().client.get_primaries()} <= set(redis_cluster.nodes)


@pytest.mark.parametrize("replay", [False, True], ids=["lpushx", "insert-script"])
def test_a_chunk_costs_one_round_trip_per_master(redis_store, replay):
    store = RecordingStore(redis_store.client)
    build(store, KEYS)
    store.client.script_load(store._insert.script)
    assert store.push(keys=KEYS, post_id=9, cap=800, replay=replay) == len(KEYS)
    (round_trip,) = store.round_trips
    primaries = {n.name for n in redis_store.client.get_primaries()}
    assert len(round_trip) == len(primaries) == 3  # the keys spread over all three masters
    assert {name for name, _ in round_trip} == primaries
    assert sum(count for _, count in round_trip) == len(KEYS)
    assert {tuple(store.client.lrange(k, 0, -1)) for k in KEYS} == {(b"9", str(COMPLETE).encode())}
    # A replay (a retried chunk) deduplicates.
    assert store.push(keys=KEYS, post_id=9, cap=800, replay=True) == 0
    assert {tuple(store.client.lrange(k, 0, -1)) for k in KEYS} == {(b"9", str(COMPLETE).encode())}


def test_lists_are_trimmed_past_cap_and_slack(redis_store):
    store = RecordingStore(redis_store.client)
    build(store, KEYS[:30])
    for post_id in range(1, 30):
        store.push(keys=KEYS[:30], post_id=post_id, cap=20)
    assert all(store.client.llen(k) <= 20 + trim_slack(20) for k in KEYS[:30])
    assert store.read(KEYS[0]).ids[:20] == list(range(29, 9, -1))


def test_a_stale_slot_map_is_corrected_by_moved(redis_store):
    store = RecordingStore(redis_store.client)
    build(store, KEYS[:1])
    store.client.script_load(store._insert.script)
    slot = key_slot(KEYS[0].encode())
    owners = store.client.nodes_manager.slots_cache[slot]
    wrong = next(n for n in store.client.get_primaries() if n.name != owners[0].name)
    store.client.nodes_manager.slots_cache[slot] = [wrong]  # as if the slot had moved
    assert store.push(keys=KEYS[:1], post_id=5, cap=800) == 1
    assert len(store.round_trips) == 2  # MOVED, then the refreshed owner
    assert store.client.nodes_manager.slots_cache[slot][0].name == owners[0].name


def test_a_slot_being_migrated_is_followed_by_ask(redis_store, redis_cluster):
    store = RecordingStore(redis_store.client)
    store.client.script_load(store._insert.script)
    key = KEYS[0]
    slot = key_slot(key.encode())
    source = store.client.nodes_manager.slots_cache[slot][0]
    target = next(n for n in store.client.get_primaries() if n.name != source.name)
    source_client, target_client = (redis_cluster.client(n.port) for n in (source, target))
    target_client.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", source_client.cluster("myid"))
    source_client.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target_client.cluster("myid"))
    try:
        # The key is not on the source any more: it answers ASK, and the store asks the target.
        assert store.insert(key=key, post_ids=[3], cap=800) is None
        assert len(store.round_trips) == 2 and store.round_trips[1] == [(target.name, 1)]
    finally:
        for client in (source_client, target_client):
            client.execute_command("CLUSTER SETSLOT", slot, "STABLE")


def test_scripts_are_reloaded_where_the_cache_was_lost(redis_store):
    """A promoted replica or restarted master has no script cache (NOSCRIPT)."""
    build(redis_store, KEYS)
    redis_store.client.script_flush()
    assert redis_store.push(keys=KEYS, post_id=4, cap=800) == len(KEYS)
    assert redis_store.insert(key=KEYS[0], post_ids=[3], cap=800) == 1
    assert redis_store.read(KEYS[0]).ids == [4, 3]
