"""Which Redis errors mean what, for the stores and the tasks that retry them
(docs/architecture.md#failures): unavailable (the feed degrades to PostgreSQL, graph hooks
mark timelines stale), a cluster mid-failover or mid-move (resend or retry), or a write whose
replicas did not confirm it in time (retry: the scripts are idempotent).
"""

from __future__ import annotations

import hiredis
import redis

# Redis failures that mean "unavailable right now", as opposed to a bug in a command.
REDIS_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


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
CLUSTER_RETRY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, *CLUSTER_TRANSIENT_ERRORS)
_TRANSIENT_PREFIXES = ("MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "LOADING")


def is_transient(reply: object) -> bool:
    """A reply after which a key's outcome is unknown or it belongs elsewhere now."""
    if isinstance(reply, hiredis.ReplyError):
        return str(reply).startswith(_TRANSIENT_PREFIXES)
    return isinstance(reply, CLUSTER_RETRY)
