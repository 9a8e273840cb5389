"""Failover on a real Redis Cluster of our own (3 masters, 1 replica each, killed at will):
a master dies while posts are fanned out and feeds are read; its replica takes over and
nothing a writer was told is delivered goes missing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import connection
from redis.cluster import ClusterNode, RedisCluster

from graph.models import Account, FanoutMode, Follow
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.support.celery import ALL_QUEUES, celery_workers
from tests.support.cluster import LocalRedisCluster
from timelines.feed.page import feed_page
from timelines.feed.visibility import feed_post_ids_from_db
from timelines.keys import outbox_key, timeline_key
from timelines.store import (
    COMPLETE,
    ClusterTimelineStore,
    ReplicaAckTimeout,
    get_store,
)


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
    assert store.rebuild_finish(key=key, post_ids=[], cap=800, complete=True, ttl_ms=3_600_000)


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
        waiting.push(keys=[key], post_id=7, cap=800)
    fail_over(cluster, master, replica)
    assert waiting.read(key).ids == []  # the master had it; the new master never got it...
    assert waiting.push(keys=[key], post_id=7, cap=800) == 1  # ...the retry delivers
    assert [int(x) for x in waiting.client.lrange(key, 0, -1)] == [7, COMPLETE]

    other_master, other_replica = cluster.master_of(other_key)
    cluster.cut_off_replica(other_master, other_replica)
    assert not_waiting.push(keys=[other_key], post_id=8, cap=800) == 1  # "delivered"
    fail_over(cluster, other_master, other_replica)
    assert waiting.read(other_key).ids == []  # lost: why the store waits for a replica


def _feed(reader: Account) -> list[int]:
    return [post.id for post in feed_page(viewer=reader, before_id=None, limit=100).posts]


def _truth(reader: Account) -> list[int]:
    return feed_post_ids_from_db(viewer_id=reader.id, limit=100)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_feeds_are_complete_after_a_master_dies_during_reads_and_fanout(cluster, settings, client_for):
    """A master is killed while a real worker fans posts out and readers read; its replica
    takes over. Every feed then equals PostgreSQL's answer, and the pushed posts are in the
    cached timelines (delivered by retried chunks, not hidden by a rebuild)."""
    settings.TIMELINE_REDIS_CLUSTER_NODES = cluster.nodes
    store = get_store()
    author, celebrity = AccountFactory(), AccountFactory()
    readers = bulk_followers(author, 60)
    Follow.objects.bulk_create(Follow(follower=r, followee=celebrity) for r in readers)
    Account.objects.filter(pk__in=[r.pk for r in readers]).update(following_count=2)
    Account.objects.filter(pk=celebrity.pk).update(followers_count=60, fanout_override=FanoutMode.PULL)
    celebrity.refresh_from_db()
    old = [PostFactory(author=author).id, PostFactory(author=celebrity).id]
    for reader in readers:  # built timelines and outbox, as active readers have
        assert _feed(reader) == old[::-1]
    victim, _ = cluster.master_of(timeline_key(readers[0].id))

    stop, reads, errors = threading.Event(), [0], []

    def read_continuously() -> None:
        try:
            while not stop.is_set():
                for reader in readers:
                    try:
                        _feed(reader)
                        reads[0] += 1
                    except redis.exceptions.RedisError as exc:  # while the shard is down
                        errors.append(type(exc).__name__)
        finally:
            connection.close()

    nodes = ",".join(cluster.nodes)
    with celery_workers(("worker", ALL_QUEUES), extra_env={"TEST_TIMELINE_REDIS_CLUSTER_NODES": nodes}):
        reader_thread = threading.Thread(target=read_continuously, daemon=True)
        reader_thread.start()
        new = [client_for(author).post("/api/posts/", {"body": "before"}, format="json").json()["id"]]
        cluster.kill(victim)  # while that fan-out may still be running
        new.append(client_for(author).post("/api/posts/", {"body": "during"}, format="json").json()["id"])
        new.append(client_for(celebrity).post("/api/posts/", {"body": "pull"}, format="json").json()["id"])
        cluster.wait_healthy(replicas=0)

        deadline = time.monotonic() + 60
        pending = list(readers)
        while pending and time.monotonic() < deadline:
            pending = [r for r in pending if _feed(r) != _truth(r)]
            time.sleep(0.2)
        stop.set()
        reader_thread.join(10)
    assert not pending, f"{len(pending)} feeds never matched PostgreSQL, e.g. {_feed(pending[0])}"
    assert all(_truth(r) == sorted(new + old, reverse=True) for r in readers)
    for reader in readers:  # nothing lost from the cache itself
        assert {new[0], new[1]} <= set(store.read(timeline_key(reader.id)).ids)
    assert new[2] in store.read(outbox_key(celebrity.id)).ids
    print(f"\nreads during the test: {reads[0]} ok, {len(errors)} failed ({sorted(set(errors))})")
