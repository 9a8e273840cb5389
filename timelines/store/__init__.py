"""The Redis side of timelines: per-reader home timelines and per-author outboxes.

Redis holds only what PostgreSQL can rebuild (docs/architecture.md#timeline-store): a list is
exact above its horizon, a missing list means "not built", and every command touches one key.
This package is the store's interface; ``get_store()`` picks the single-node store
(``single.py``) or the cluster store (``cluster.py``) from settings. Key names are in
``timelines/keys.py``, the scripts in ``lua/``, the wire-level packing in ``wire.py``, what
errors mean in ``errors.py``.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff, ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from timelines.store.cluster import ClusterTimelineStore
from timelines.store.errors import CLUSTER_TRANSIENT_ERRORS, REDIS_UNAVAILABLE, ReplicaAckTimeout
from timelines.store.lists import (
    BUILDING,
    BUILDING_TTL_MS,
    CLAIM_TTL_MS,
    COMPLETE,
    CachedList,
    ListState,
    trim_slack,
)
from timelines.store.single import TimelineStore

__all__ = [
    "BUILDING",
    "BUILDING_TTL_MS",
    "CLAIM_TTL_MS",
    "CLUSTER_TRANSIENT_ERRORS",
    "COMPLETE",
    "REDIS_SERVER_SETTINGS",
    "REDIS_UNAVAILABLE",
    "CachedList",
    "ClusterTimelineStore",
    "ListState",
    "ReplicaAckTimeout",
    "TimelineStore",
    "get_store",
    "trim_slack",
]

# Server settings the timeline Redis should run with (docker-compose.yml and scripts/services.sh
# pass them; make bench applies them for its run). Fan-out pushes at the head of long lists,
# and inserting at the head of a listpack moves the whole node, so smaller (size-based) nodes
# cost Redis less CPU per push for about the same memory (measured: see docs/performance.md).
REDIS_SERVER_SETTINGS = {"list-max-listpack-size": "-1"}


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
