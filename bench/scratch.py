"""The scratch world a benchmark or the soak runs in: ``<DATABASE_URL's name><suffix>``
(dropped, recreated and migrated) and a Redis db it FLUSHDBs, with the environment the real
services are started with. Never the database it was pointed at; never FLUSHALL."""

from __future__ import annotations

import os
import urllib.parse


def scratch_database_url(suffix: str) -> str:
    """DATABASE_URL (or the default) with ``suffix`` added to the database name."""
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedsite")
    parsed = urllib.parse.urlparse(base_db)
    return parsed._replace(path=parsed.path.rstrip("/") + suffix).geturl()


def bench_redis_url() -> str:
    """The Redis a benchmark FLUSHDBs: BENCH_REDIS_URL, else REDIS_URL, else the local db 0."""
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def bench_env(redis_url: str, database_url: str) -> dict[str, str]:
    """Production settings (DEBUG off, real queueing) against the scratch database and Redis."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TIMELINE_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "feedsite.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BENCH_ENDPOINTS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        # Per-user rate limits would cap the freshness probes' 50 posts a minute; the bench
        # measures the service, not its limits.
        "FEED_THROTTLES": "off",
    }


def scratch_setup(env: dict[str, str]) -> None:
    """Make this process run with ``env`` (a ``bench_env``): recreate and migrate its
    database, set Django up, and empty its Redis db."""
    os.environ.update(env)
    from tests.support.postgres import database_recreate

    database_recreate(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from timelines.store import get_store

    get_store().client.flushdb()
