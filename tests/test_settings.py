"""Settings come from the environment; production mode refuses unsafe defaults."""

from __future__ import annotations

import os
import subprocess
import sys

SNIPPET = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS, "
    "s.DATABASES['default']['NAME'], s.REDIS_URL)"
)


def settings_in(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", SNIPPET],
        env={**clean, "DJANGO_SETTINGS_MODULE": "feedsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_requires_a_secret_key():
    result = settings_in({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_are_secure():
    result = settings_in({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "feeds.example"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["False", "True", "True", "['feeds.example']"]


def test_database_and_redis_come_from_the_environment():
    result = settings_in(
        {"DATABASE_URL": "postgres://u:p@db.example:5433/other", "REDIS_URL": "redis://cache.example:6380/2"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["other", "redis://cache.example:6380/2"]


def test_every_database_prepares_the_hot_queries():
    """feedsite.db.prepared_cursor relies on prepare_threshold, on the replica too (fan-out's
    follower query may run there)."""
    snippet = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(sorted((alias, db['OPTIONS']['prepare_threshold']) for alias, db in s.DATABASES.items()))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "feedsite.settings"}
    env["DATABASE_REPLICA_URL"] = "postgres://postgres@127.0.0.1:5432/replica"
    command = [sys.executable, "-c", snippet]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('default', 0), ('replica', 0)]"
