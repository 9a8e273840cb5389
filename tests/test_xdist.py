"""Each pytest-xdist worker runs on databases of its own (feedsite/test_settings.py): the
PostgreSQL test database test_<db>_gwN and Redis db <TEST_REDIS_URL's db> - N, and the
processes a test starts inherit exactly those."""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from feedsite.test_settings import xdist_redis_url
from tests.support.procs import child_env, suite_env


def test_worker_n_uses_the_redis_db_n_below_test_redis_url():
    assert xdist_redis_url("redis://127.0.0.1:6379/15", None) == "redis://127.0.0.1:6379/15"
    assert xdist_redis_url("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert xdist_redis_url("redis://127.0.0.1:6379/11", "gw1") == "redis://127.0.0.1:6379/10"
    assert xdist_redis_url("redis://:pw@cache.example:6380/3", "gw3") == "redis://:pw@cache.example:6380/0"
    with pytest.raises(ImproperlyConfigured, match="no Redis db for xdist worker gw4"):
        xdist_redis_url("redis://127.0.0.1:6379/3", "gw4")


@pytest.mark.django_db
def test_this_worker_runs_on_its_own_databases(settings):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    assert settings.REDIS_URL == settings.TIMELINE_REDIS_URL == xdist_redis_url(base, worker)
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    if worker:
        assert connection.settings_dict["NAME"].endswith(f"_{worker}")


def test_subprocesses_do_not_take_themselves_for_an_xdist_worker(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("FEEDSITE_PROBE", "kept")
    env = child_env(TEST_REDIS_URL="redis://127.0.0.1:6379/10")
    assert not any(name.startswith("PYTEST") for name in env)
    assert env["FEEDSITE_PROBE"] == "kept" and env["TEST_REDIS_URL"] == "redis://127.0.0.1:6379/10"


@pytest.mark.django_db
def test_app_subprocesses_get_this_workers_databases(settings, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", os.environ.get("PYTEST_XDIST_WORKER", "gw1"))
    env = suite_env(FEED_THROTTLES="off")
    assert env["DATABASE_URL"].endswith("/" + connection.settings_dict["NAME"])
    assert env["TEST_REDIS_URL"] == settings.REDIS_URL
    assert env["DJANGO_SETTINGS_MODULE"] == "feedsite.test_settings" and env["FEED_THROTTLES"] == "off"
    assert "PYTEST_XDIST_WORKER" not in env
