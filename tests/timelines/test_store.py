"""The Redis list primitives, against the real Redis."""

from __future__ import annotations

import pytest

from timelines.store import COMPLETE, CachedList, timeline_key

pytestmark = pytest.mark.also_cluster

KEY = timeline_key(1)


def raw(store, key=KEY) -> list[int]:
    return [int(x) for x in store.client.lrange(key, 0, -1)]


def built(store, ids, complete=True, cap=10, key=KEY):
    store.rebuild_begin(key=key)
    assert store.rebuild_finish(key=key, post_ids=ids, cap=cap, complete=complete)


def test_keys_carry_a_cluster_hash_tag():
    assert timeline_key(42) == "tl:{42}"


def test_push_into_missing_list_creates_nothing(redis_store):
    assert redis_store.push_to_many(keys=[KEY], post_id=5, cap=10) == 0
    assert redis_store.insert(key=KEY, post_ids=[5, 4], cap=10) is None  # "not built"
    assert not redis_store.client.exists(KEY)
    built(redis_store, [5])
    assert redis_store.insert(key=KEY, post_ids=[5], cap=10) == 0  # "already there"


def test_push_is_idempotent_and_ordered(redis_store):
    built(redis_store, [3, 1])
    assert redis_store.push_to_many(keys=[KEY], post_id=5, cap=10) == 1
    assert redis_store.push_to_many(keys=[KEY], post_id=5, cap=10) == 0
    # A late, out-of-order arrival is inserted in place, once.
    assert redis_store.push_to_many(keys=[KEY], post_id=2, cap=10) == 1
    assert redis_store.push_to_many(keys=[KEY], post_id=2, cap=10) == 0
    assert raw(redis_store) == [5, 3, 2, 1, COMPLETE]
    assert redis_store.read(KEY) == CachedList(ids=[5, 3, 2, 1], complete=True)


def test_trim_drops_complete_marker_and_sets_horizon(redis_store):
    built(redis_store, [4, 3, 2, 1], cap=4)
    redis_store.push_to_many(keys=[KEY], post_id=9, cap=4)
    assert raw(redis_store) == [9, 4, 3, 2]
    cached = redis_store.read(KEY)
    assert cached.complete is False and cached.horizon == 2
    # Below a trimmed list's horizon PostgreSQL is authoritative: late ids are not cached.
    assert redis_store.insert(key=KEY, post_ids=[1], cap=4) == 0
    assert raw(redis_store) == [9, 4, 3, 2]


def test_insert_with_boundary_cuts_list_to_stay_exact(redis_store):
    built(redis_store, [50, 30, 10])
    # The caller says its ids are exhaustive only down to 25.
    assert redis_store.insert(key=KEY, post_ids=[40, 25], cap=10, boundary=25) == 2
    assert raw(redis_store) == [50, 40, 30, 25]
    assert redis_store.read(KEY).horizon == 25


def test_remove_keeps_marker_and_drops_emptied_trimmed_list(redis_store):
    built(redis_store, [5, 4, 3])
    assert redis_store.remove(key=KEY, post_ids=[4, 99]) == 1
    assert raw(redis_store) == [5, 3, COMPLETE]
    assert redis_store.remove(key=KEY, post_ids=[5, 3]) == 2
    assert raw(redis_store) == [COMPLETE]  # an empty but complete timeline
    built(redis_store, [8, 7], complete=False, key=timeline_key(2))
    redis_store.remove(key=timeline_key(2), post_ids=[8, 7])
    assert not redis_store.client.exists(timeline_key(2))  # rebuilt on next read


def test_rebuild_keeps_posts_fanned_out_while_it_ran(redis_store):
    assert redis_store.rebuild_begin(key=KEY)
    assert redis_store.read(KEY) is None  # BUILDING reads as missing
    redis_store.push_to_many(keys=[KEY], post_id=7, cap=10)  # fan-out during the rebuild
    assert redis_store.rebuild_finish(key=KEY, post_ids=[6, 2], cap=10, complete=True)
    assert raw(redis_store) == [7, 6, 2, COMPLETE]
    assert redis_store.client.ttl(KEY) == -1


def test_rebuild_finish_refuses_when_list_vanished(redis_store):
    redis_store.rebuild_begin(key=KEY)
    redis_store.client.flushdb()
    assert not redis_store.rebuild_finish(key=KEY, post_ids=[1], cap=10, complete=True)
    assert not redis_store.client.exists(KEY)


@pytest.mark.parametrize("cap", [3, 1000])
def test_large_batches_and_cap(redis_store, cap):
    ids = list(range(2500, 0, -1))
    built(redis_store, ids, complete=False, cap=cap)
    assert raw(redis_store) == ids[:cap]
