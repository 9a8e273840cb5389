"""``make bench``: one command that builds a synthetic network in a scratch database, runs the
real services against it and measures them next to baselines taken in the same run.

Writes ``bench/results/latest.json`` and PNG plots beside it, and prints a summary table.
It uses ``<DATABASE_URL's name>_bench`` (dropped and recreated) and the Redis database of
``BENCH_REDIS_URL`` (default ``REDIS_URL``), which it FLUSHDBs: never point it at a Redis
database that holds anything you want to keep (it never runs FLUSHALL).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.scratch import bench_env, bench_redis_url, scratch_database_url, scratch_setup

RESULTS = Path(__file__).resolve().parent / "results"


class Stage:
    """Progress output: what runs now, how long it took, and the machine's load meanwhile
    (other users of the machine make every absolute number noisy)."""

    def __init__(self) -> None:
        self.loads: dict[str, list[float]] = {}

    def __call__(self, name: str):
        stage = self

        class _Timer:
            def __enter__(self):
                self.started = time.monotonic()
                print(f"bench: {name} ...", flush=True)
                return self

            def __exit__(self, *exc):
                load = os.getloadavg()[0]
                stage.loads[name] = [round(time.monotonic() - self.started, 1), round(load, 2)]
                print(
                    f"bench: {name} done in {time.monotonic() - self.started:.1f} s (load {load:.2f})",
                    flush=True,
                )

        return _Timer()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks with baselines.")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1: 20,000 users (default); 5: 100,000; 0: smoke"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json and the plots go")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    database_url = scratch_database_url("_bench")
    redis_url = bench_redis_url()
    env = bench_env(redis_url, database_url)
    stage = Stage()
    started = time.monotonic()

    with stage("scratch database and Redis db"):
        scratch_setup(env)

    with _redis_server_settings() as redis_settings:
        _run(args, env, redis_url, database_url, stage, started, redis_settings)


@contextlib.contextmanager
def _redis_server_settings():
    """Run with the timeline Redis settings a deployment uses (timelines.store.
    REDIS_SERVER_SETTINGS, as docker-compose.yml and scripts/services.sh pass them), then put
    back what the server had: this Redis may be shared. Yields what was in force."""
    from timelines.store import REDIS_SERVER_SETTINGS, get_store

    client = get_store().client
    before = {name: client.config_get(name)[name] for name in REDIS_SERVER_SETTINGS}
    try:
        for name, value in REDIS_SERVER_SETTINGS.items():
            client.config_set(name, value)
        yield dict(REDIS_SERVER_SETTINGS)
    finally:
        for name, value in before.items():
            client.config_set(name, value)


def _run(
    args: argparse.Namespace,
    env: dict[str, str],
    redis_url: str,
    database_url: str,
    stage: Stage,
    started: float,
    redis_settings: dict[str, str],
) -> None:
    from bench import fanout, memory, read_curves, reads, report
    from bench.workload import Scale, workload_build
    from graph.models import Account, FanoutMode
    from graph.synthetic import accounts_generate, network_summary
    from tests.support.celery import celery_worker
    from tests.support.http import gunicorn

    scale = Scale.for_factor(args.scale)
    results: dict = {"meta": _meta(scale, redis_url, database_url), "stages": stage.loads}
    results["meta"]["redis_settings"] = redis_settings

    tail = f"{scale.tail_accounts:,}-account tail"
    with stage(f"network ({scale.users:,} users, ~{scale.avg_follows} follows each, {tail}) and posts"):
        workload = workload_build(scale, seed=args.seed)
        results["network"] = {
            "summary": network_summary(workload.network),
            "users": scale.users,
            "follows": workload.network.follows,
            "posts": workload.posts,
            "tail": workload.tail,
            "pull_mode_accounts": len(workload.network.pull_forced_ids) + workload.tail["pull_mode"],
            "max_followers": max(workload.network.followers_counts),
            "typical_reader_follows": workload.typical_reader.following_count,
            "heavy_reader_follows": workload.heavy_reader.following_count,
        }
        print(f"bench: {results['network']['summary']}; tail {workload.tail}; {workload.posts:,} posts")

    with stage("probe authors (forced push) with warm follower timelines"):
        follower_pool = workload.network.account_ids  # made active readers by probe_author
        probes = {}
        for size in scale.fanout_sizes:
            # The biggest audience is accounts of its own (the celebrity's fans).
            pool = (
                follower_pool if size <= len(follower_pool) else accounts_generate(count=size, prefix="fan")
            )
            probes[size] = fanout.probe_author(
                username=f"probe{size}", follower_ids=pool[:size], filler_posts=800, warm_length=800
            )
            Account.objects.filter(pk=probes[size].author.pk).update(fanout_override=FanoutMode.PUSH)
            probes[size].author.refresh_from_db()
        sustained = probes[max(scale.probe_sizes)]
        _analyze()

    # The baseline runs before, between and after the two fan-out measurements, and its median
    # counts: on this shared machine one redis-benchmark run varies by +-25% from the next.
    def baseline() -> dict:
        return fanout.redis_benchmark_lpush(redis_url, requests=scale.redis_benchmark_requests)

    sizes = ", ".join(f"{n:,}" for n in scale.fanout_sizes)
    with stage(f"curve 4: fan-out to {sizes} followers, 1 and 2 worker processes"):
        baselines = [baseline()]
        curve = []
        for n in (1, 2):
            curve += fanout.fanout_curve(
                [probes[size] for size in scale.fanout_sizes], env=env, concurrency=n,
                posts=scale.fanout_posts, sustained=sustained, runs=scale.sustained_runs,
                burst_posts=scale.sustained_posts,
            )  # fmt: skip
            baselines.append(baseline())
        rates = [b["requests_per_s"] for b in baselines]
        results["redis_benchmark"] = {
            "command": baselines[0]["command"],
            "requests_per_s": statistics.median(rates),
            "runs": rates,
        }
        results["fanout_curve"] = {"points": curve, "sustained_followers": len(sustained.follower_ids)}
        results["fanout"] = [row for row in curve if "burst" in row]  # the sustained size

    with stage("curve 5: Redis memory per timeline entry vs users"):
        results["memory_curve"] = {
            "points": memory.memory_curve(
                {size: probe.follower_ids for size, probe in probes.items()}, sample=scale.memory_timelines
            )
        }
        results["memory"] = next(
            p for p in results["memory_curve"]["points"] if p["users"] == len(sustained.follower_ids)
        )

    with gunicorn(env) as base_url:
        with stage("freshness over HTTP, one worker"), celery_worker(env, concurrency=1) as worker:
            fanout.wait_idle(worker)
            results["freshness"] = [
                fanout.freshness(probes[size], base_url=base_url, worker=worker, posts=scale.freshness_posts)
                for size in scale.probe_sizes
            ]
        with stage("feed reads and baselines over HTTP"):
            results["reads"] = reads.reads_measure(workload, base_url=base_url, seconds=scale.read_seconds)
        points = ", ".join(f"{n:,}" for n in scale.follow_points)
        with stage(f"curve 1: feed read cost vs followees ({points}; typical and quiet)"):
            results["feed_curve"] = read_curves.feed_vs_followees(
                workload, base_url=base_url, seconds=scale.curve_seconds
            )
        with stage("curve 2: cold reads (rebuild) vs followees"):
            results["cold_curve"] = read_curves.cold_vs_followees(
                workload, base_url=base_url, repeats=scale.cold_repeats
            )
        points = ", ".join(f"{n:,}" for n in scale.pull_points)
        with stage(f"curve 3: hybrid read penalty vs pull-mode followees ({points})"):
            results["pull_curve"] = read_curves.pull_penalty(
                workload, base_url=base_url, seconds=scale.curve_seconds
            )

    celebrity = probes[scale.celebrity_followers]
    with stage(f"celebrity write cost ({scale.celebrity_followers:,} followers)"):
        results["celebrity"] = fanout.celebrity_write_cost(celebrity, env=env, posts=scale.celebrity_posts)

    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    results["meta"]["load_end"] = list(os.getloadavg())
    report.report_write(results, out=args.out)
    print(report.summary_table(results))
    print(f"bench: wrote {args.out / 'latest.json'} and plots in {time.monotonic() - started:.0f} s")


def _analyze() -> None:
    """After bulk loads, the state autovacuum leaves a live service in: fresh planner
    statistics, and a visibility map that lets index-only scans (the follower query, 10,000
    rows a post) skip the heap (10,000 heap fetches a post without it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _meta(scale, redis_url: str, database_url: str) -> dict:
    from django.db import connection

    from timelines.store import get_store

    info = get_store().client.info("server")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "scale": scale.name,
        "machine": f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB, {platform.system()}",
        "python": platform.python_version(),
        "redis": info.get("redis_version"),
        "postgresql": pg_version,
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent.parent
        ).stdout.strip(),
        "load_start": list(os.getloadavg()),
    }


def http_bench_start(*, prog: str, description: str, out: str, suffix: str, argv: list[str] | None):
    """What an HTTP-against-ping benchmark (bench/mastodon.py, bench/trends.py) starts with: its
    arguments (``--scale``, ``--seconds``, ``--out``), its scratch database and Redis db set
    up, and its stage timer. Returns (args, env, stage, started)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scale", type=float, default=1.0, help="bench workload scale (1: 20,000 users)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per endpoint, over all rounds")
    parser.add_argument("--out", type=Path, default=RESULTS / out)
    args = parser.parse_args(argv)
    env = bench_env(bench_redis_url(), scratch_database_url(suffix))
    stage, started = Stage(), time.monotonic()
    with stage("scratch database and Redis db"):
        scratch_setup(env)
    return args, env, stage, started
