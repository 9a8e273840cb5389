"""``make bench-mastodon``: GET /api/v1/timelines/home against GET /api/feed/ (the same
hybrid feed path, rendered as Mastodon Status entities) for the same readers in the same run,
next to the trivial endpoint (/api/bench/ping/). Target: Mastodon's home at least 0.8 times the
feed's requests/s (issue 13). Writes bench/results/mastodon.json; numbers in
docs/performance.md. Scratch database ``<DATABASE_URL's name>_bench_mastodon`` and the Redis db
of ``BENCH_REDIS_URL`` (default ``REDIS_URL``), which it FLUSHDBs."""

from __future__ import annotations

import json
import os
import time

from bench.run import http_bench_start

TARGET = 0.8


def main(argv: list[str] | None = None) -> None:
    args, env, stage, started = http_bench_start(
        prog="python -m bench.mastodon",
        description=__doc__.splitlines()[0],
        out="mastodon.json",
        suffix="_bench_mastodon",
        argv=argv,
    )

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
        results = reads.interleaved(base_url, steady, seconds=args.seconds)
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
