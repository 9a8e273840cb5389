"""The trends' beat task through a real Celery worker and the real Redis broker: it fills the
key; killed and started again, the next run does; with the key deleted, a read rebuilds it
from PostgreSQL without any worker."""

from __future__ import annotations

import signal
import time

import pytest

from ranking.tasks import refresh_trends
from ranking.trends import trending_post_ids
from tests.factories import AccountFactory, PostFactory
from tests.ranking.test_trends import engage
from tests.support.celery import ALL_QUEUES, celery_workers
from timelines.keys import trends_key

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60


def _wait_for_key(store, expected: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while (store.client.get(trends_key()) or b"").decode() != expected:
        assert time.monotonic() < deadline, f"trends never became {expected!r}"
        time.sleep(0.05)


def test_task_killed_and_restarted_then_key_rebuilt_from_postgresql(redis_store):
    posts = [PostFactory(author=a) for a in AccountFactory.create_batch(2)]
    engage(posts[0], likes=1)
    engage(posts[1], likes=2)
    with celery_workers(("trends-1", ALL_QUEUES)) as (worker,):
        refresh_trends.delay()
        _wait_for_key(redis_store, f"{posts[1].id},{posts[0].id}")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=TIMEOUT)
    redis_store.client.delete(trends_key())
    engage(posts[0], likes=3)
    refresh_trends.delay()  # queued while no worker runs
    with celery_workers(("trends-2", ALL_QUEUES)):
        _wait_for_key(redis_store, f"{posts[0].id},{posts[1].id}")
    redis_store.client.delete(trends_key())
    assert trending_post_ids() == [posts[0].id, posts[1].id]  # rebuilt on read
    assert redis_store.client.get(trends_key()).decode() == f"{posts[0].id},{posts[1].id}"


def test_the_task_declares_its_retry_policy_and_is_scheduled():
    from django.conf import settings

    assert refresh_trends.max_retries == 3 and refresh_trends.acks_late
    assert settings.CELERY_BEAT_SCHEDULE["refresh-trends"] == {
        "task": "ranking.tasks.refresh_trends",
        "schedule": 60,
    }
