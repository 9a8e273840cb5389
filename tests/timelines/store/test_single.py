"""The Redis list primitives, against the real Redis."""

from __future__ import annotations

import random

import pytest
import redis

from timelines.keys import timeline_key, timeline_keys
from timelines.store import (
    BUILDING,
    CLAIM_TTL_MS,
    COMPLETE,
    CachedList,
    trim_slack,
)
from timelines.store.wire import commands_payload, lpushx_payload

pytestmark = pytest.mark.also_cluster

KEY = timeline_key(1)
DAY_MS = 86_400_000


def raw(store, key=KEY) -> list[int]:
    return [int(x) for x in store.client.lrange(key, 0, -1)]


def built(store, ids, complete=True, cap=10, key=KEY):
    store.rebuild_begin(key=key)
    assert store.rebuild_finish(key=key, post_ids=ids, cap=cap, complete=complete, ttl_ms=DAY_MS)


def test_keys_carry_a_cluster_hash_tag():
    assert timeline_key(42) == "tl:{42}"


def test_push_into_missing_list_creates_nothing(redis_store):
    assert redis_store.push(keys=[KEY], post_id=5, cap=10) == 0
    assert redis_store.insert(key=KEY, post_ids=[5, 4], cap=10) is None  # "not built"
    assert not redis_store.client.exists(KEY)
    built(redis_store, [5])
    assert redis_store.insert(key=KEY, post_ids=[5], cap=10) == 0  # "already there"


def test_deduplicating_push_is_idempotent_and_reads_are_ordered(redis_store):
    built(redis_store, [3, 1])
    assert redis_store.push(keys=[KEY], post_id=5, cap=10) == 1
    # A replay (replay=True, as fan-out sends every possible replay) adds nothing.
    assert redis_store.push(keys=[KEY], post_id=5, cap=10, replay=True) == 0
    # A late, out-of-order arrival is stored once and read in its place.
    assert redis_store.push(keys=[KEY], post_id=2, cap=10) == 1
    assert redis_store.push(keys=[KEY], post_id=2, cap=10, replay=True) == 0
    assert redis_store.insert(key=KEY, post_ids=[2], cap=10) == 0
    assert raw(redis_store) == [2, 5, 3, 1, COMPLETE]  # pushed at the head, each once
    assert redis_store.read(KEY) == CachedList(ids=[5, 3, 2, 1], complete=True)


def test_lazy_trim_drops_complete_marker_and_sets_horizon(redis_store):
    cap = 4
    limit = cap + trim_slack(cap)
    built(redis_store, [4, 3, 2, 1], cap=cap)
    for post_id in range(5, limit):  # up to cap + slack entries, marker included
        redis_store.push(keys=[KEY], post_id=post_id, cap=cap)
    assert len(raw(redis_store)) == limit and redis_store.read(KEY).complete
    redis_store.push(keys=[KEY], post_id=limit, cap=cap)  # one past: cut to the cap
    newest = list(range(limit, limit - cap, -1))
    assert raw(redis_store) == newest
    cached = redis_store.read(KEY)
    assert cached.complete is False and cached.horizon == newest[-1]
    # Below a trimmed list's horizon PostgreSQL is authoritative: late ids are not cached.
    assert redis_store.insert(key=KEY, post_ids=[1], cap=cap) == 0
    assert raw(redis_store) == newest
    # A late LPUSHX below the horizon lands at the head, but the horizon is the tail, which
    # only scripts write: readers ignore the id and the next rewrite drops it.
    redis_store.push(keys=[KEY], post_id=2, cap=cap)
    assert redis_store.read(KEY) == cached
    assert redis_store.insert(key=KEY, post_ids=[limit + 2, limit + 1], cap=cap) == 2
    assert raw(redis_store) == [limit + 2, limit + 1, *newest[:2]]


def test_trim_keeps_the_newest_entries_in_place_unless_a_late_id_straddles_the_cut(redis_store):
    cap = 10
    assert cap + trim_slack(cap) == 18  # cut back to 10 entries when a push makes 19
    # The usual case, late ids only above the cut: the first cap entries are kept as they
    # are (one LTRIM, no rewrite), so the late 15 stays where it was pushed.
    built(redis_store, list(range(10, 0, -1)), cap=cap)  # 11 entries with the marker
    for post_id in (11, 12, 13, 14, 16, 15, 17, 18):
        redis_store.push(keys=[KEY], post_id=post_id, cap=cap)
    assert raw(redis_store) == [18, 17, 15, 16, 14, 13, 12, 11, 10, 9]
    assert redis_store.read(KEY) == CachedList(ids=list(range(18, 8, -1)), complete=False)

    # A late id right at the cut: keeping the first cap entries would make 35 the horizon
    # and cut 36 off. The list is sorted and rewritten instead.
    key = timeline_key(2)
    built(redis_store, [23, 22, 21], cap=cap, key=key)  # 4 entries with the marker
    for post_id in (31, 32, 33, 34, 36, 35, *range(37, 46)):
        redis_store.push(keys=[key], post_id=post_id, cap=cap)
    assert raw(redis_store, key) == list(range(45, 35, -1))
    assert redis_store.read(key) == CachedList(ids=list(range(45, 35, -1)), complete=False)


def test_trim_while_building_keeps_the_marker(redis_store):
    assert redis_store.rebuild_begin(key=KEY)
    limit = 4 + trim_slack(4)
    for post_id in range(1, limit + 1):  # the BUILDING marker is the extra entry
        redis_store.push(keys=[KEY], post_id=post_id, cap=4)
    assert raw(redis_store) == [limit, limit - 1, limit - 2, limit - 3, BUILDING]
    assert redis_store.read(KEY) is None
    assert redis_store.rebuild_finish(key=KEY, post_ids=[1], cap=4, complete=True, ttl_ms=DAY_MS)
    assert raw(redis_store) == [limit, limit - 1, limit - 2, limit - 3]  # cut: not complete


@pytest.mark.parametrize(("seed", "lateness"), [(0, None), (1, 30), (2, 30), (3, 4), (4, 4), (5, 4)])
def test_out_of_order_pushes_stay_exact_above_the_horizon(redis_store, seed, lateness):
    """Concurrent chunk tasks push ids out of order. Whatever the order, with replays
    between, a read is sorted, has no duplicates, holds every pushed id at or above its
    horizon, and the raw list never exceeds cap + slack (+ a marker). A trim keeps cap
    entries, of which an id pushed so late that it sits below the new horizon is not read:
    with lateness well under the cap (concurrent workers), a trimmed list still reads at
    least cap - lateness ids."""
    rng = random.Random(seed)
    cap = 20
    built(redis_store, list(range(10, 0, -1)), cap=cap)
    pushed = set(range(1, 11))
    ids = list(range(11, 300))
    # Any order, or nearly sorted: each id pushed up to ``lateness`` places late.
    if lateness is None:
        order = rng.sample(ids, len(ids))
    else:
        order = sorted(ids, key=lambda i: i + rng.uniform(0, lateness))
    shortest = cap
    for post_id in order:
        redis_store.push(keys=[KEY], post_id=post_id, cap=cap)
        if rng.random() < 0.2:
            assert redis_store.push(keys=[KEY], post_id=post_id, cap=cap, replay=True) == 0
        pushed.add(post_id)
        assert len(raw(redis_store)) <= cap + trim_slack(cap) + 1
        cached = redis_store.read(KEY)
        expected = sorted((i for i in pushed if i >= cached.horizon), reverse=True)
        assert cached.ids == expected
        if not cached.complete:
            shortest = min(shortest, len(cached.ids))
    assert not redis_store.read(KEY).complete
    if lateness is not None and lateness < cap // 2:
        assert shortest >= cap - lateness


def test_lpushx_payload_is_plain_resp():
    keys = timeline_keys([7, 12, 13, 8])
    assert keys == ["tl:{7}", "tl:{12}", "tl:{13}", "tl:{8}"] and timeline_keys([]) == []
    assert lpushx_payload(keys, 345) == (
        b"*3\r\n$6\r\nLPUSHX\r\n$6\r\ntl:{7}\r\n$3\r\n345\r\n"
        b"*3\r\n$6\r\nLPUSHX\r\n$7\r\ntl:{12}\r\n$3\r\n345\r\n"
        b"*3\r\n$6\r\nLPUSHX\r\n$7\r\ntl:{13}\r\n$3\r\n345\r\n"
        b"*3\r\n$6\r\nLPUSHX\r\n$6\r\ntl:{8}\r\n$3\r\n345\r\n"
    )


def test_commands_payload_is_plain_resp():
    commands = [("LRANGE", "ob:{7}", 0, -1), ("LLEN", "ob:{12}"), ("WAIT", 1, 200)]
    assert commands_payload(commands) == b"".join(
        b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(str(a)), str(a).encode()) for a in c)
        for c in commands
    )
    assert commands_payload(commands[:1]) == b"*4\r\n$6\r\nLRANGE\r\n$6\r\nob:{7}\r\n$1\r\n0\r\n$2\r\n-1\r\n"


def test_raw_push_reports_wrong_type_and_keeps_the_connection_usable(redis_store):
    built(redis_store, [1])
    redis_store.client.set("tl:{2}", "not a list")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        redis_store.push(keys=["tl:{2}", KEY], post_id=5, cap=10)
    assert raw(redis_store) == [5, 1, COMPLETE]  # the other command still ran, once
    assert redis_store.client.ping()
    assert redis_store.push(keys=[KEY, "tl:{3}"], post_id=6, cap=10) == 1


def test_claim_is_granted_once(redis_store):
    assert redis_store.claim(key="fo:{1}:abc") is True
    assert redis_store.claim(key="fo:{1}:abc") is False
    assert 0 < redis_store.client.pttl("fo:{1}:abc") <= CLAIM_TTL_MS


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
    redis_store.push(keys=[KEY], post_id=7, cap=10)  # fan-out during the rebuild
    assert redis_store.rebuild_finish(key=KEY, post_ids=[6, 2], cap=10, complete=True, ttl_ms=DAY_MS)
    assert raw(redis_store) == [7, 6, 2, COMPLETE]
    # The BUILDING placeholder's short expiry is replaced, in the same script, by the list's.
    assert DAY_MS - 60_000 < redis_store.client.pttl(KEY) <= DAY_MS


def test_rebuild_finish_with_an_expiry_already_past_keeps_nothing(redis_store):
    assert redis_store.rebuild_begin(key=KEY)
    assert redis_store.rebuild_finish(key=KEY, post_ids=[6, 2], cap=10, complete=True, ttl_ms=0)
    assert not redis_store.client.exists(KEY)


def test_rebuild_finish_refuses_when_list_vanished(redis_store):
    redis_store.rebuild_begin(key=KEY)
    redis_store.client.flushdb()
    assert not redis_store.rebuild_finish(key=KEY, post_ids=[1], cap=10, complete=True, ttl_ms=DAY_MS)
    assert not redis_store.client.exists(KEY)


@pytest.mark.parametrize("cap", [3, 1000])
def test_large_batches_and_cap(redis_store, cap):
    ids = list(range(2500, 0, -1))
    built(redis_store, ids, complete=False, cap=cap)
    assert raw(redis_store) == ids[:cap]


# -- outboxes: ordered inserts, heads read alone ----------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_ordered_inserts_keep_a_list_sorted_and_heads_read_as_the_whole(redis_store, seed):
    """Outbox writes (ordered=True) in any order keep the list sorted, with or without a
    trim; so any head of it, read alone, is exact down to its last id: it is the whole list's
    newest ids (or the whole list when the head reaches its tail)."""
    rng = random.Random(seed)
    cap = 15
    built(redis_store, sorted(rng.sample(range(1, 40), 5), reverse=True), cap=cap)
    for post_id in rng.sample(range(1, 120), 60):
        redis_store.insert(key=KEY, post_ids=[post_id], cap=cap, ordered=True)
        values = raw(redis_store)
        ids = values if values[-1] != COMPLETE else values[:-1]
        assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
        whole = redis_store.read(KEY)
        for depth in range(1, len(values) + 2):
            head = redis_store.read_many([KEY], [depth])[0]
            if depth >= len(values):
                assert head == whole
            else:
                assert head == CachedList(ids=whole.ids[:depth], complete=False, truncated=True)
                assert head.horizon == whole.ids[depth - 1]


def test_a_head_that_cannot_stand_alone_is_read_whole(redis_store):
    """Lists written out of order (a timeline, by fan-out's LPUSHX) or still being rebuilt
    are read whole; missing lists are None; depths apply per key."""
    other = timeline_key(2)
    built(redis_store, [5, 3, 1])
    assert redis_store.push(keys=[KEY], post_id=2, cap=10) == 1  # out of order, at the head
    built(redis_store, list(range(30, 10, -1)), key=other, cap=100)
    missing, building = timeline_key(3), timeline_key(4)
    assert redis_store.rebuild_begin(key=building)
    redis_store.push(keys=[building], post_id=9, cap=10)
    got = redis_store.read_many([KEY, other, missing, building], [2, 3, 2, 1])
    assert got[0] == CachedList(ids=[5, 3, 2, 1], complete=True)
    assert got[1] == CachedList(ids=[30, 29, 28], complete=False, truncated=True)
    assert got[2] is None and got[3] is None
    assert redis_store.read_many([other, KEY], [None, 2]) == [redis_store.read(other), got[0]]
