"""``make bench-mastodon``: GET /api/v1/timelines/home against GET /api/feed/ (the same
hybrid feed path, rendered as Mastodon Status entities) for the same readers in the same run,
next to the trivial endpoint (/api/bench/ping/). Target: Mastodon's home at least 0.8 times the
feed's requests/s (issue 13). Writes bench/results/mastodon.json; numbers in
docs/performance.md. Scratch database ``<DATABASE_URL's name>_bench_mastodon`` and the Redis db
of ``BENCH_REDIS_URL`` (default ``REDIS_URL``), which it FLUSHDBs."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench.run import RESULTS, Stage
from bench.scratch import bench_env, bench_redis_url, scratch_database_url, scratch_setup

TARGET = 0.8


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mastodon", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="bench workload scale (1: 20,000 users)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per endpoint, over all rounds")
    parser.add_argument("--out", type=Path, default=RESULTS / "mastodon.json")
    args = parser.parse_args(argv)

    env = bench_env(bench_redis_url(), scratch_database_url("_bench_mastodon"))
    stage, started = Stage(), time.monotonic()
    with stage("scratch database and Redis db"):
        scratch_setup(env)

    from bench import http, reads
    from bench.run import _analyze
    from bench.workload import Scale, tokens_for, workload_build
    from tests.support.http import gunicorn

    scale = Scale.for_factor(args.scale)
    with stage(f"network ({scale.users:,} users) and posts"):
        workload = workload_build(scale)
        _analyze()
    readers = {"typical": workload.typical_reader, "heavy": workload.heavy_reader}
    tokens = dict(zip(readers, tokens_for(list(readers.values())), strict=True))
    steady = {"ping": ("/api/bench/ping/", tokens["typical"])}
    for kind, token in tokens.items():
        steady[f"feed_{kind}"] = ("/api/feed/?limit=20", token)
        steady[f"mastodon_home_{kind}"] = ("/api/v1/timelines/home?limit=20", token)

    with gunicorn(env) as base_url, stage("reads over HTTP, in rounds"):
        for token in tokens.values():  # warm: build their timelines and outboxes once
            assert http.Client(base_url, token).get("/api/feed/?limit=20")[0] == 200
        runs: dict[str, list[dict]] = {name: [] for name in steady}
        for _ in range(reads.ROUNDS):
            for name, (path, token) in steady.items():
                runs[name].append(
                    reads.load(base_url, path, [token], seconds=args.seconds / reads.ROUNDS, raw=True)
                )
    results = {name: reads.pooled(name_runs) for name, name_runs in runs.items()}
    for summary in results.values():
        summary.pop("latencies", None)
    ratios = {
        kind: results[f"mastodon_home_{kind}"]["rps"] / results[f"feed_{kind}"]["rps"] for kind in readers
    }
    report = {
        "meta": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "scale": scale.name,
            "seconds": round(time.monotonic() - started, 1),
            "load_end": list(os.getloadavg()),
            "readers_follow": {kind: reader.following_count for kind, reader in readers.items()},
            "stages": stage.loads,
        },
        "reads": results,
        "ratio_home_to_feed": ratios,
        "target": TARGET,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'endpoint':<24}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, summary in results.items():
        print(
            f"{name:<24}{summary['rps']:>8.1f}{summary['p50_ms']:>9.1f}{summary['p99_ms']:>9.1f}{summary['errors']:>8}"
        )
    for kind, ratio in ratios.items():
        verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
        print(f"home/feed req/s, {kind} reader: {ratio:.2f} (target {TARGET}) {verdict}")
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()
