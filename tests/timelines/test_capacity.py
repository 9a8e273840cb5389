"""The capacity model (timelines.capacity) and manage.py feed_capacity."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.core.management import CommandError, call_command

from timelines.capacity import Assumptions, Measured, capacity_estimate, follower_split

MEASURED = Measured(
    fanout_inserts_per_s_per_worker=100_000,
    fanout_ms_per_post=0,
    redis_lpush_per_s=1_000_000,
    bytes_per_entry=10,
    feed_read_core_ms=5,
    merge_core_ms_per_outbox=0.1,
    rebuild_ms=[(50, 20.0), (500, 40.0), (5_000, 100.0)],
    source="test",
)
ASSUME = Assumptions(
    users=1_000_000, posts_per_day=8_640_000, avg_follows=100, threshold=10**9, active_share=0.5,
    reads_per_active_user_per_day=8.64, timeline_length=800, peak_factor=2, zipf_exponent=0.9,
    shard_memory_gb=1, shard_write_share=0.5, replicas=1,
)  # fmt: skip


def test_follower_split_moves_with_the_threshold():
    shares = [
        follower_split(users=10**6, avg_follows=100, zipf_exponent=0.9, threshold=t)
        for t in (1, 1_000, 100_000, 10**9)
    ]
    assert shares[0] == (10**6, pytest.approx(0.0, abs=1e-9))  # everyone is a celebrity
    assert shares[-1] == (0, 1.0)  # nobody is
    pulls = [p for p, _ in shares]
    pushes = [s for _, s in shares]
    assert pulls == sorted(pulls, reverse=True) and pushes == sorted(pushes)


def test_estimate_arithmetic_without_celebrities():
    e = capacity_estimate(assumptions=ASSUME, measured=MEASURED)
    # 100 posts/s x 100 followers x half of them active; peak twice that.
    assert e.fanout_writes_per_s == pytest.approx(5_000)
    assert e.fanout_writes_per_s_peak == pytest.approx(10_000)
    # Workers and Redis send one LPUSHX per follower, active or not.
    assert e.fanout_recipients_per_s_peak == pytest.approx(20_000)
    assert e.workers == 1
    slower = dataclasses.replace(MEASURED, fanout_inserts_per_s_per_worker=15_000)
    assert capacity_estimate(assumptions=ASSUME, measured=slower).workers == 2  # 20,000 / 15,000
    assert e.timeline_memory_gb == pytest.approx(500_000 * 800 * 10 / 1e9)  # 4 GB
    assert (e.shards_for_memory, e.shards_for_writes, e.shards) == (4, 1, 4)
    assert e.feed_reads_per_s_peak == pytest.approx(100)  # 500,000 x 8.64 / 86,400 x 2
    assert e.web_cores == 1 and e.pulled_outboxes_per_read == 0


def test_read_cost_adds_merges_and_rebuilds_from_the_curves():
    # Curve 2 between its points, on a log scale: 100 followees is 30% of the way from 50 to 500.
    assert MEASURED.rebuild_ms_at(50) == 20 and MEASURED.rebuild_ms_at(10) == 20
    assert MEASURED.rebuild_ms_at(100) == pytest.approx(20 + 20 * 0.30103, rel=1e-4)
    assert MEASURED.rebuild_ms_at(10**6) == 100
    e = capacity_estimate(assumptions=ASSUME, measured=MEASURED, threshold=1_000)
    assert e.pulled_outboxes_per_read > 0
    assert e.merge_core_ms_per_read == pytest.approx(0.1 * e.pulled_outboxes_per_read)
    assert e.rebuild_core_ms_per_read == pytest.approx(0.01 * MEASURED.rebuild_ms_at(100))
    assert e.read_core_ms == pytest.approx(5 + e.merge_core_ms_per_read + e.rebuild_core_ms_per_read)
    # A post's fixed fan-out cost takes worker time too: 100 posts/s x 2 (peak) x 10 ms = 2 workers.
    fixed = dataclasses.replace(MEASURED, fanout_ms_per_post=10)
    assert capacity_estimate(assumptions=ASSUME, measured=fixed).workers == 1 + 2


def test_command_prints_assumptions_and_threshold_table(tmp_path, capsys):
    results = tmp_path / "latest.json"
    results.write_text(
        json.dumps(
            {
                "meta": {"date": "2026-11-21"},
                "per_operation": {
                    "fanout_inserts_per_s_per_worker": 100_000,
                    "fanout_ms_per_post": 3,
                    "redis_lpush_per_s": 1_000_000,
                    "feed_read_core_ms_no_pull": 5,
                    "merge_core_ms_per_outbox": 0.05,
                    "rebuild_ms_by_followees": [
                        {"reader": "typical", "followees": 50, "p50_ms": 20, "p99_ms": 30},
                        {"reader": "quiet", "followees": 50, "p50_ms": 25, "p99_ms": 35},
                    ],
                    "sources": {"merge_core_ms_per_outbox": "curve 3: slope"},
                },
                "memory_curve": {"points": [{"bytes_per_entry_large_ids": 10}]},
            }
        )
    )
    call_command("feed_capacity", "--results", str(results), "--users", "1000000", "--threshold", "5000")
    out = capsys.readouterr().out
    for text in ("Assumptions:", "1,000,000 users", "Redis shards (masters)", "How the threshold moves"):
        assert text in out
    # Each measured figure says which curve it came from; the rebuild is the worse reader's.
    assert "<- curve 3: slope" in out and "rebuild: 25.0 ms at 200 followees" in out
    for threshold in ("500", "5,000", "50,000", "500,000"):
        assert f" {threshold} " in out


def test_command_refuses_missing_results_and_bad_values(tmp_path):
    with pytest.raises(CommandError, match="run `make bench` first"):
        call_command("feed_capacity", "--results", str(tmp_path / "none.json"))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CommandError, match="not a make bench result"):
        call_command("feed_capacity", "--results", str(tmp_path / "bad.json"))
    with pytest.raises(CommandError, match="users"):
        call_command("feed_capacity", "--users", "-5")
