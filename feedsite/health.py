"""Dependency checks for GET /healthz: PostgreSQL, the timeline Redis and the Celery broker.

Each check opens what the service really uses, with short timeouts, so a load balancer's
probe answers within a few seconds even when a dependency hangs.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from kombu import Connection

from timelines.store import get_store

TIMEOUT_SECONDS = 2


def _postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    if settings.TIMELINE_REDIS_CLUSTER_NODES:
        get_store().client.ping()  # the cluster client's own timeouts and retries
        return
    client = redis.Redis.from_url(
        settings.TIMELINE_REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT_SECONDS)


CHECKS: dict[str, Callable[[], None]] = {"postgresql": _postgresql, "redis": _redis, "broker": _broker}


def health_check() -> dict[str, str]:
    """``{"postgresql": "ok", "redis": "ok", "broker": "error: ..."}``, every check run."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is a failed check, not a 500
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
    return results
