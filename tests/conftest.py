from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from graph.models import Account
from ranking.models import RankingConfig
from tests.factories import AccountFactory, token_for
from tests.support.cluster import LocalRedisCluster
from timelines import local_cache
from timelines.feed.policy import timeline_ttl_ms
from timelines.keys import timeline_key
from timelines.models import FeedConfig
from timelines.store import TimelineStore, get_store

MAX_XDIST_WORKERS = 4


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, at most 4, since worker gwN runs on Redis db
    <TEST_REDIS_URL's db> - N (feedsite/test_settings.py) and db 0 is the development one."""
    return max(1, min(MAX_XDIST_WORKERS, len(os.sched_getaffinity(0))))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests marked also_cluster run twice: on the single test Redis and on a real cluster.
    if metafunc.definition.get_closest_marker("also_cluster"):
        metafunc.parametrize("timeline_backend", ["single", "cluster"], indirect=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    """A real Redis Cluster (3 masters, 1 replica each) on free ports, for the whole run."""
    cluster = LocalRedisCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def timeline_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "single")


@pytest.fixture(autouse=True)
def redis_store(request: pytest.FixtureRequest, timeline_backend: str) -> Iterator[TimelineStore]:
    """The real timeline store, emptied before each test: the test Redis database, or the
    test cluster for tests marked ``also_cluster`` in their cluster run."""
    if timeline_backend == "cluster":
        nodes = request.getfixturevalue("redis_cluster").nodes
        request.getfixturevalue("settings").TIMELINE_REDIS_CLUSTER_NODES = nodes
    store = get_store()
    store.client.flushdb()
    yield store


@pytest.fixture(autouse=True)
def fresh_process_caches() -> None:
    """Per-process caches (the feed config, hot outboxes) start empty in each test, since
    the database rows they copied are rolled back between tests."""
    FeedConfig.cache_clear()
    RankingConfig.cache_clear()
    local_cache.outboxes.clear()


@pytest.fixture
def steady_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep this process's copy of the config row for the whole test, so a query count never
    depends on whether two seconds passed between requests on a busy machine."""
    monkeypatch.setattr("feedsite.singleton.CACHE_SECONDS", 3600.0)


@pytest.fixture
def run_commit_hooks(django_capture_on_commit_callbacks):
    """Use as ``with run_commit_hooks():`` around writes whose on_commit work (fan-out,
    timeline backfill) the test needs to happen, as it would after a real commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def make_account(db) -> Callable[..., Account]:
    return AccountFactory


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[[Account], APIClient]:
    """An API client authenticated with the account's real token."""

    def make(account: Account) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(account)}")
        return client

    return make


@pytest.fixture
def warm_timelines(redis_store: TimelineStore) -> Callable[[Iterable[int]], None]:
    """Give users built (empty, complete) timelines and a recent read, as active readers have,
    so fan-out has somewhere to push. Fan-out never creates a timeline; a read rebuilds a
    missing one."""

    def warm(user_ids: Iterable[int]) -> None:
        user_ids = list(user_ids)
        now = timezone.now()
        Account.objects.filter(id__in=user_ids).update(last_feed_read_at=now)
        ttl_ms = timeline_ttl_ms(FeedConfig.load(), last_read=now)
        for user_id in user_ids:
            key = timeline_key(user_id)
            redis_store.rebuild_begin(key=key)
            redis_store.rebuild_finish(key=key, post_ids=[], cap=800, complete=True, ttl_ms=ttl_ms)

    return warm
