from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pytest
from rest_framework.test import APIClient

from graph.models import Account
from tests.factories import AccountFactory, token_for
from timelines.store import TimelineStore, get_store, timeline_key


@pytest.fixture(autouse=True)
def redis_store() -> Iterator[TimelineStore]:
    """The real timeline store, emptied before each test (the test Redis database only)."""
    store = get_store()
    store.client.flushdb()
    yield store


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
    """Give users built (empty, complete) timelines, as active readers have, so fan-out has
    somewhere to push. Fan-out never creates a timeline; a read rebuilds a missing one."""

    def warm(user_ids: Iterable[int]) -> None:
        for user_id in user_ids:
            key = timeline_key(user_id)
            redis_store.rebuild_begin(key=key)
            redis_store.rebuild_finish(key=key, post_ids=[], cap=800, complete=True)

    return warm
