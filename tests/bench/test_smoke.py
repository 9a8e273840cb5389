"""`make bench` end to end at a tiny scale: real gunicorn, real Celery workers, the load
generator and redis-benchmark, on a scratch database of its own. Numbers are not checked
(speed targets are for the benchmark to report, not for tests); that every stage ran, every
curve has all its points, every fan-out was delivered exactly once (the bench checks it),
and the outputs exist, is."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from bench.curves_plots import PLOTS
from bench.workload import Scale
from tests.support.postgres import database_url
from tests.support.procs import ROOT
from timelines.store import REDIS_SERVER_SETTINGS, get_store

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def test_make_bench_runs_at_a_tiny_scale(tmp_path):
    redis = get_store().client
    server_settings = {name: redis.config_get(name)[name] for name in REDIS_SERVER_SETTINGS}
    env = {
        **os.environ,
        # The bench appends _bench: test_feedsite..._bench, apart from everything else.
        "DATABASE_URL": database_url(connection.settings_dict),
        "BENCH_REDIS_URL": settings.REDIS_URL,  # the test Redis db, flushed by every test anyway
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    # It ran with the deployment's Redis settings and put the shared server's back.
    assert results["meta"]["redis_settings"] == REDIS_SERVER_SETTINGS
    assert {name: redis.config_get(name)[name] for name in REDIS_SERVER_SETTINGS} == server_settings
    for png in ("fanout.png", "freshness.png", "reads.png", *PLOTS):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    baseline = results["redis_benchmark"]
    assert len(baseline["runs"]) == 3 and baseline["requests_per_s"] == sorted(baseline["runs"])[1] > 0
    assert [row["workers"] for row in results["fanout"]] == [1, 2]
    assert all(
        row["burst"]["inserts"] == row["burst"]["posts"] * row["followers"] for row in results["fanout"]
    )
    _assert_curves(results, Scale.for_factor(0))
    assert [row["followers"] for row in results["freshness"]] == [10, 50, 200]
    reads = results["reads"]
    steady = ("ping", "feed_typical", "pull_typical", "feed_heavy", "pull_heavy", "pull_heavy_per_author")
    for key in (*steady, "feed_cold"):
        assert reads[key]["requests"] > 0 and reads[key]["errors"] == 0, (key, reads[key])
    for key in steady:  # measured in interleaved rounds, pooled
        assert len(reads[key]["rounds_rps"]) == 3 and all(rps > 0 for rps in reads[key]["rounds_rps"])
    assert results["network"]["pull_mode_accounts"] >= 1
    assert 0 < results["memory"]["bytes_per_entry"] < results["memory"]["bytes_per_entry_large_ids"]
    assert {"pull", "push"} <= results["celebrity"].keys()
    names = [t["name"] for t in results["targets"]]
    for curve in ("curve 1", "curve 2", "curve 3", "curve 4", "curve 5"):
        assert any(name.startswith(curve) for name in names), (curve, names)
    assert all(isinstance(t["met"], bool) for t in results["targets"])
    assert "redis-benchmark LPUSH -P 64" in run.stdout and "Machine:" in run.stdout
    for line in ("Curve 1: feed read cost vs followees", "Curve 5: Redis memory vs users", "[MET ]"):
        assert line in run.stdout

    # feed_capacity reads exactly this file.
    capacity = subprocess.run(
        [sys.executable, "manage.py", "feed_capacity", "--results", str(tmp_path / "latest.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert capacity.returncode == 0, capacity.stderr
    assert "fan-out worker processes (peak)" in capacity.stdout
    for curve in ("curve 2", "curve 3", "curve 4", "curve 5"):  # each figure names its curve
        assert f"<- {curve}" in capacity.stdout


def _assert_curves(results: dict, scale: Scale) -> None:
    """Every curve has each of its points, with numbers from requests that all succeeded."""
    feed = results["feed_curve"]["points"]
    expected = {(kind, n) for kind in ("typical", "quiet") for n in scale.follow_points}
    assert {(p["reader"], p["followees"]) for p in feed} == expected
    for point in feed:
        assert 0 <= point["share_recent"] <= 1
        for series in ("feed", "pull", "pull_per_author"):
            assert point[series]["requests"] > 0 and point[series]["errors"] == 0, (point, series)
    quiet = [p["share_recent"] for p in feed if p["reader"] == "quiet"]
    assert quiet == [0.0] * len(scale.follow_points)  # they last posted 30+ days ago
    cold = results["cold_curve"]["points"]
    assert {(p["reader"], p["followees"]) for p in cold} == expected
    assert all(p["requests"] == scale.cold_repeats for p in cold)
    pull = results["pull_curve"]["points"]
    assert [p["pull_followees"] for p in pull] == list(scale.pull_points)
    base = pull[0]["followees"]
    assert [p["followees"] - base for p in pull] == list(scale.pull_points)
    assert all(p["feed"]["requests"] > 0 and p["feed"]["errors"] == 0 for p in pull)
    fan = results["fanout_curve"]["points"]
    assert {(r["followers"], r["workers"]) for r in fan} == {
        (n, w) for n in scale.fanout_sizes for w in (1, 2)
    }
    assert all(len(r["seconds_to_last_timeline"]) == scale.fanout_posts for r in fan)
    for row in results["fanout"]:  # the sustained size: the median of its runs
        assert len(row["burst"]["runs"]) == scale.sustained_runs >= 5
    assert [p["users"] for p in results["memory_curve"]["points"]] == list(scale.fanout_sizes)
    op = results["per_operation"]
    assert op["fanout_inserts_per_s_per_worker"] > 0 and set(op["sources"]) >= {
        "fanout_inserts_per_s_per_worker", "merge_core_ms_per_outbox", "rebuild_ms_by_followees"
    }  # fmt: skip


def test_bench_endpoints_are_off_by_default(client_for, make_account):
    response = client_for(make_account()).get("/api/bench/ping/")
    assert response.status_code == 404
