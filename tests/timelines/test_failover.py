"""Failover on a real Redis Cluster of our own (3 masters, 1 replica each, killed at will):
a master dies while posts are fanned out and feeds are read; its replica takes over and
nothing a writer was told is delivered goes missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.cluster import ClusterNode, RedisCluster

from tests.redis_cluster import LocalRedisCluster
from timelines.store import COMPLETE, ClusterTimelineStore, ReplicaAckTimeout, timeline_key


@pytest.fixture
def cluster() -> Iterator[LocalRedisCluster]:
    """A cluster for this test alone: killing nodes must not disturb the shared one."""
    cluster = LocalRedisCluster().start()
    yield cluster
    cluster.stop()


def store_on(cluster: LocalRedisCluster, *, replica_acks: int) -> ClusterTimelineStore:
    client = RedisCluster(
        startup_nodes=[ClusterNode("127.0.0.1", p) for p in cluster.ports], socket_timeout=2
    )
    # A short ack timeout keeps the write well inside the cluster's node timeout, so the
    # paused replica is not yet declared failed (it would then no longer be waited for).
    return ClusterTimelineStore(client, replica_acks=replica_acks, ack_timeout_ms=50)


def build_empty(store: ClusterTimelineStore, key: str) -> None:
    store.rebuild_begin(key=key)
    assert store.rebuild_finish(key=key, post_ids=[], cap=800, complete=True)


def fail_over(cluster: LocalRedisCluster, master: int, replica: int) -> None:
    """The master dies while its replica is cut off; the replica takes over."""
    cluster.kill(master)
    cluster.resume(replica)
    cluster.wait_healthy(replicas=0)
    assert cluster.client(replica).info("replication")["role"] == "master"


def test_a_write_is_confirmed_only_once_a_replica_has_it(cluster):
    """Redis replicates asynchronously: a master can acknowledge a write and die before its
    replica got it. The store waits for a replica (WAIT) and reports failure otherwise, so the
    fan-out task retries, and the retry lands on the promoted replica. A store that does not
    wait loses the post in the same situation (the second half, on another shard)."""
    waiting, not_waiting = store_on(cluster, replica_acks=1), store_on(cluster, replica_acks=0)
    key = timeline_key(1)
    master, replica = cluster.master_of(key)
    other_key = next(
        timeline_key(u) for u in range(2, 100) if cluster.master_of(timeline_key(u))[0] != master
    )
    build_empty(waiting, key)
    build_empty(waiting, other_key)

    cluster.cut_off_replica(master, replica)
    with pytest.raises(ReplicaAckTimeout):
        waiting.push_to_many(keys=[key], post_id=7, cap=800)
    fail_over(cluster, master, replica)
    assert waiting.read(key).ids == []  # the master had it; the new master never got it...
    assert waiting.push_to_many(keys=[key], post_id=7, cap=800) == 1  # ...the retry delivers
    assert [int(x) for x in waiting.client.lrange(key, 0, -1)] == [7, COMPLETE]

    other_master, other_replica = cluster.master_of(other_key)
    cluster.cut_off_replica(other_master, other_replica)
    assert not_waiting.push_to_many(keys=[other_key], post_id=8, cap=800) == 1  # "delivered"
    fail_over(cluster, other_master, other_replica)
    assert waiting.read(other_key).ids == []  # lost: why the store waits for a replica
