"""Concurrent readers of a cold timeline or outbox trigger one rebuild (real threads, real
PostgreSQL and Redis), and hot outboxes are served from a short-lived per-process copy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from graph.models import Account
from graph.services import follow_create
from tests.factories import AccountFactory, PostFactory
from timelines import local_cache
from timelines.feed import visibility
from timelines.feed.page import feed_page
from timelines.keys import outbox_key, timeline_key
from timelines.local_cache import LocalListCache
from timelines.store import CachedList

READERS = 8


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def rebuilds(kind: str) -> dict[str, float]:
    return {
        outcome: counter("feedsite_timeline_rebuilds_total", kind=kind, outcome=outcome)
        for outcome in ("built", "waited", "uncached")
    }


def slowed(monkeypatch, name: str, delay: float) -> list[int]:
    """Make a visibility query slow (a heavy rebuild query) and count its calls."""
    calls: list[int] = []
    original = getattr(visibility, name)

    def slow(**kwargs):
        calls.append(1)
        time.sleep(delay)
        return original(**kwargs)

    monkeypatch.setattr(visibility, name, slow)
    return calls


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_readers_of_a_cold_timeline_rebuild_it_once(monkeypatch, redis_store):
    reader, friend = AccountFactory.create_batch(2)
    follow_create(follower=reader, followee=friend)
    posts = [PostFactory(author=friend).id for _ in range(3)]
    Account.objects.filter(pk=reader.pk).update(last_feed_read_at=timezone.now())  # active reader
    reader.refresh_from_db()
    calls = slowed(monkeypatch, "feed_post_ids_from_db", 0.3)
    before = rebuilds("timeline")

    pages = in_threads(
        READERS,
        lambda _: [p.id for p in feed_page(viewer=reader, before_id=None, limit=10).posts],
    )

    assert pages == [posts[::-1]] * READERS
    assert len(calls) == 1  # one rebuild query, not eight
    after = rebuilds("timeline")
    assert after["built"] - before["built"] == 1
    assert after["waited"] - before["waited"] == READERS - 1
    assert after["uncached"] == before["uncached"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_readers_of_a_cold_outbox_rebuild_it_once(monkeypatch, redis_store):
    call_command("feed_config", celebrity_threshold=READERS, outbox_cache_ms=0)
    celebrity = AccountFactory()
    readers = AccountFactory.create_batch(READERS)
    for reader in readers:
        follow_create(follower=reader, followee=celebrity)
    celebrity.refresh_from_db()
    post = PostFactory(author=celebrity)
    assert post.delivery == "pull"
    for reader in readers:  # warm timelines: only the outbox is cold
        reader.refresh_from_db()
        feed_page(viewer=reader, before_id=None, limit=10)
    redis_store.client.delete(outbox_key(celebrity.id))
    calls = slowed(monkeypatch, "author_post_ids", 0.3)
    before = rebuilds("outbox")

    pages = in_threads(
        READERS,
        lambda i: [p.id for p in feed_page(viewer=readers[i], before_id=None, limit=10).posts],
    )

    assert pages == [[post.id]] * READERS
    assert len(calls) == 1
    after = rebuilds("outbox")
    assert (after["built"] - before["built"], after["waited"] - before["waited"]) == (1, READERS - 1)


@pytest.mark.django_db(transaction=True)
def test_readers_stop_waiting_for_a_slow_rebuild_and_serve_postgresql(monkeypatch, redis_store):
    call_command("feed_config", rebuild_wait_ms=50)
    reader, friend = AccountFactory.create_batch(2)
    follow_create(follower=reader, followee=friend)
    post = PostFactory(author=friend)
    Account.objects.filter(pk=reader.pk).update(last_feed_read_at=timezone.now())
    reader.refresh_from_db()
    calls = slowed(monkeypatch, "feed_post_ids_from_db", 0.5)
    before = rebuilds("timeline")

    pages = in_threads(4, lambda _: [p.id for p in feed_page(viewer=reader, before_id=None, limit=10).posts])

    assert pages == [[post.id]] * 4  # right answers, from PostgreSQL, for those who gave up
    after = rebuilds("timeline")
    assert after["built"] - before["built"] == 1
    assert after["uncached"] - before["uncached"] == 3
    assert len(calls) == 4
    assert redis_store.read(timeline_key(reader.id)).ids == [post.id]  # cached once, by the builder


# -- hot outboxes: the per-process copy -------------------------------------------------------


@pytest.fixture
def celebrity_with_fans(db, run_commit_hooks):
    call_command("feed_config", celebrity_threshold=3, outbox_cache_ms=60_000)
    celebrity = AccountFactory()
    fans = AccountFactory.create_batch(5)
    for fan in fans:
        follow_create(follower=fan, followee=celebrity)
    celebrity.refresh_from_db()
    with run_commit_hooks():
        post = PostFactory(author=celebrity)
    assert post.delivery == "pull"
    return celebrity, fans, post


def page_ids(viewer) -> list[int]:
    return [p.id for p in feed_page(viewer=viewer, before_id=None, limit=20).posts]


def test_many_readers_of_a_hot_outbox_hit_redis_once(celebrity_with_fans, redis_store):
    celebrity, fans, post = celebrity_with_fans
    local_cache.outboxes.clear()
    hits, local = (
        counter("feedsite_timeline_reads_total", kind="outbox", result=r) for r in ("hit", "local")
    )
    assert all(page_ids(fan) == [post.id] for fan in fans)
    assert counter("feedsite_timeline_reads_total", kind="outbox", result="hit") - hits == 1
    assert counter("feedsite_timeline_reads_total", kind="outbox", result="local") - local == len(fans) - 1
    # The copy really is what is served: with the Redis key gone, nothing is rebuilt.
    redis_store.client.delete(outbox_key(celebrity.id))
    assert page_ids(fans[0]) == [post.id]
    assert not redis_store.client.exists(outbox_key(celebrity.id))


def test_this_processs_own_post_is_visible_at_once(celebrity_with_fans, run_commit_hooks):
    celebrity, fans, post = celebrity_with_fans
    assert page_ids(fans[0]) == [post.id]  # now cached locally for a minute
    with run_commit_hooks():
        newer = PostFactory(author=celebrity)
    assert page_ids(fans[0]) == [newer.id, post.id]


def test_a_copy_expires_and_the_cache_can_be_turned_off(celebrity_with_fans, redis_store):
    celebrity, fans, post = celebrity_with_fans
    assert page_ids(fans[0]) == [post.id]
    # Another process's post lands in Redis; this process's copy is still fresh.
    other = PostFactory(author=celebrity)  # no commit hooks: written to Redis by hand below
    redis_store.insert(key=outbox_key(celebrity.id), post_ids=[other.id], cap=800)
    assert page_ids(fans[0]) == [post.id]
    call_command("feed_config", outbox_cache_ms=0)  # off: every read goes to Redis
    assert page_ids(fans[0]) == [other.id, post.id]

    call_command("feed_config", outbox_cache_ms=50)
    assert page_ids(fans[1]) == [other.id, post.id]
    third = PostFactory(author=celebrity)
    redis_store.insert(key=outbox_key(celebrity.id), post_ids=[third.id], cap=800)
    time.sleep(0.06)  # past the copy's lifetime (40-50 ms with jitter)
    assert page_ids(fans[1]) == [third.id, other.id, post.id]


def test_local_cache_evicts_the_oldest_and_jitters_expiry():
    cache = LocalListCache(max_entries=2)
    lists = [CachedList(ids=[i], complete=True) for i in range(3)]
    for index, value in enumerate(lists):
        cache.put(f"k{index}", value)
    assert cache.get("k0", ttl_ms=60_000) is None  # evicted, the oldest of three
    assert cache.get("k1", ttl_ms=60_000) == lists[1] and cache.get("k2", ttl_ms=60_000) == lists[2]
    assert cache.get("k2", ttl_ms=0) is None  # a zero lifetime (cache off) serves nothing
    factors = set()
    for _ in range(20):
        cache.put("j", lists[0])
        factors.add(cache._entries["j"][1])
    assert len(factors) > 1 and all(0.8 <= f <= 1.0 for f in factors)  # jittered lifetimes
    cache.invalidate("j")
    assert cache.get("j", ttl_ms=60_000) is None
