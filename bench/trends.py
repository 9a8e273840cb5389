"""``python -m bench.trends``: GET /api/trends/posts/ and GET /api/v1/trends/statuses against the
trivial endpoint (/api/bench/ping/) in the same run, in interleaved rounds, for a signed-in
reader. Target (issue 16): trends at least 0.5 times ping's requests/s. Writes
bench/results/trends.json; numbers in docs/performance.md#trends. Scratch database
``<DATABASE_URL's name>_bench_trends`` and the Redis db of ``BENCH_REDIS_URL``, which it
FLUSHDBs."""

from __future__ import annotations

import json
import os
import random
import time

from bench.run import http_bench_start

TARGET = 0.5
LIKES = 20_000  # spread over the newest posts, so a full list of trends exists


def _engagement(seed: int) -> int:
    """Likes by random accounts on the newest 2,000 posts (skewed: a few get most)."""
    from graph.models import Account
    from posts.models import Like, Post

    rng = random.Random(seed)
    users = list(Account.objects.values_list("id", flat=True)[:5_000])
    posts = list(Post.objects.order_by("-id").values_list("id", flat=True)[:2_000])
    pairs = {(rng.choice(users), posts[int(rng.paretovariate(1.2)) % len(posts)]) for _ in range(LIKES)}
    Like.objects.bulk_create([Like(user_id=u, post_id=p) for u, p in pairs], batch_size=5_000)
    return len(pairs)


def main(argv: list[str] | None = None) -> None:
    args, env, stage, started = http_bench_start(
        prog="python -m bench.trends",
        description=__doc__.splitlines()[0],
        out="trends.json",
        suffix="_bench_trends",
        argv=argv,
    )

    from bench import http, reads
    from bench.run import _analyze
    from bench.workload import Scale, tokens_for, workload_build
    from ranking.trends import trends_refresh
    from tests.support.http import gunicorn

    scale = Scale.for_factor(args.scale)
    with stage(f"network ({scale.users:,} users), posts and likes"):
        workload = workload_build(scale)
        likes = _engagement(seed=42)
        _analyze()
        trending = len(trends_refresh())
    (token,) = tokens_for([workload.typical_reader])
    steady = {
        "ping": "/api/bench/ping/",
        "trends": "/api/trends/posts/?limit=20",
        "mastodon_trends": "/api/v1/trends/statuses?limit=20",
    }
    with gunicorn(env) as base_url, stage("reads over HTTP, in rounds"):
        for path in steady.values():  # warm every worker's per-process copies
            assert http.Client(base_url, token).get(path)[0] == 200
        results = reads.interleaved(
            base_url, {name: (path, token) for name, path in steady.items()}, seconds=args.seconds
        )
    ratios = {name: results[name]["rps"] / results["ping"]["rps"] for name in ("trends", "mastodon_trends")}
    report = {
        "meta": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "scale": scale.name,
            "likes": likes,
            "trending_posts": trending,
            "seconds": round(time.monotonic() - started, 1),
            "load_end": list(os.getloadavg()),
            "stages": stage.loads,
        },
        "reads": results,
        "ratio_to_ping": ratios,
        "target": TARGET,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, summary in results.items():
        rps, p50, p99 = summary["rps"], summary["p50_ms"], summary["p99_ms"]
        print(f"{name:<18}{rps:>8.1f} req/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    for name, ratio in ratios.items():
        verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
        print(f"{name}/ping req/s: {ratio:.2f} (target {TARGET}) {verdict}")
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()
