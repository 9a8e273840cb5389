"""Read-replica routing. Only reads that tolerate a little replication lag are sent to the
replica, and only inside ``replica_reads()``: today, the follower lists fan-out walks
(timelines.fanout.plan.follower_id_batches). Everything else, writes and reads that must see
the user's own writes, stays on ``default``. Without DATABASE_REPLICA_URL nothing changes
(settings.READ_REPLICA, the alias to read from, is then None)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return settings.READ_REPLICA is not None


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the read replica when one is configured."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: object) -> str | None:
        if _replica_reads.get():
            return settings.READ_REPLICA
        return None

    def db_for_write(self, model: type, **hints: object) -> str | None:
        return None

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool | None:
        return None  # both aliases hold the same database

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        return False if db == settings.READ_REPLICA else None  # the primary's migrations replicate
