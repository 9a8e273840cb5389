"""``make bench-notifications``: like requests/s (POST /api/posts/{id}/like/, each request a new
like by a new account: a burst on one post) with notifications on against the same run with
them switched off (NOTIFICATIONS=0), two gunicorns measured in alternating rounds. The real
Celery worker that creates the notifications runs after the likes (their request path is what
is measured; in production workers run elsewhere), or with ``--worker-during`` meanwhile.
Target: on at least 0.9 times off (issue 16). Afterwards waits for the worker to drain and
checks every like became one notification of one group. Writes
bench/results/notifications.json; numbers in docs/performance.md. Scratch database
``<DATABASE_URL's name>_bench_notifications`` and the Redis db of ``BENCH_REDIS_URL`` (default
``REDIS_URL``), which it FLUSHDBs."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

from bench.run import RESULTS, Stage
from bench.scratch import bench_env, bench_redis_url, scratch_database_url, scratch_setup

TARGET = 0.9
DRAIN_SECONDS = 300
WARM_LIKES = 40


def _likers(count: int) -> list[str]:
    """``count`` accounts with tokens (no password hashing: they never sign in)."""
    from django.contrib.auth.hashers import make_password

    from bench.workload import tokens_for
    from graph.models import Account

    unusable = make_password(None)
    Account.objects.bulk_create(
        [Account(username=f"liker{i}", password=unusable) for i in range(count)], batch_size=5000
    )
    return tokens_for(list(Account.objects.filter(username__startswith="liker").order_by("id")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.notifications", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=9.0, help="per mode, over all rounds")
    parser.add_argument("--likers", type=int, default=12_000, help="accounts (each likes once)")
    parser.add_argument(
        "--worker-during",
        action="store_true",
        help="run the Celery worker during the likes (on this 2-core machine it takes their CPU)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "notifications.json")
    args = parser.parse_args(argv)

    env = bench_env(bench_redis_url(), scratch_database_url("_bench_notifications"))
    stage, started = Stage(), time.monotonic()
    with stage("scratch database and Redis db"):
        scratch_setup(env)

    from bench import http, reads
    from bench.run import _analyze
    from feedsite.notifications.models import Notification, NotificationGroup
    from graph.models import Account
    from posts.models import Post
    from tests.support.celery import celery_worker
    from tests.support.http import gunicorn

    with stage(f"{args.likers:,} likers and the liked posts"):
        tokens = _likers(args.likers)
        author = Account.objects.create(username="liked")
        posts = {mode: Post.objects.create(author=author, body=f"like me ({mode})") for mode in ("on", "off")}
        _analyze()
    envs = {"on": {**env, "NOTIFICATIONS": "1"}, "off": {**env, "NOTIFICATIONS": "0"}}
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    warm_tokens, tokens = tokens[:WARM_LIKES], tokens[WARM_LIKES:]
    per_run = len(tokens) // (2 * reads.ROUNDS)
    slices = iter(tokens[i * per_run : (i + 1) * per_run] for i in range(2 * reads.ROUNDS))
    worker = contextlib.nullcontext()
    if args.worker_during:
        worker = celery_worker(envs["on"], name=f"bench-notifications-{os.getpid()}")
    with (
        worker,
        gunicorn(envs["on"]) as on_url,
        gunicorn(envs["off"]) as off_url,
        stage("likes over HTTP, in rounds"),
    ):
        urls = {"on": on_url, "off": off_url}
        warm = Post.objects.create(author=author, body="warm-up")
        for mode, url in urls.items():  # every gunicorn worker past its first, lazy requests
            for token in warm_tokens[: WARM_LIKES // 2] if mode == "on" else warm_tokens[WARM_LIKES // 2 :]:
                assert http.Client(url, token).request("POST", f"/api/posts/{warm.id}/like/")[0] == 201
        for _ in range(reads.ROUNDS):
            for mode in ("on", "off"):
                path = f"/api/posts/{posts[mode].id}/like/"
                run = reads.load(
                    urls[mode],
                    path,
                    next(slices),
                    seconds=args.seconds / reads.ROUNDS,
                    unique=True,
                    raw=True,
                    method="POST",
                )
                runs[mode].append(run)
    drain = contextlib.nullcontext() if args.worker_during else celery_worker(envs["on"], name="bench-drain")
    with drain, stage("the worker drains the notifications"):
        liked = Post.objects.get(pk=posts["on"].id).like_count + WARM_LIKES // 2
        deadline = time.monotonic() + DRAIN_SECONDS
        while Notification.objects.count() < liked and time.monotonic() < deadline:
            time.sleep(0.5)
    results = {mode: reads.pooled(mode_runs) for mode, mode_runs in runs.items()}
    for summary in results.values():
        summary.pop("latencies", None)
    ratio = results["on"]["rps"] / results["off"]["rps"] if results["off"]["rps"] else 0.0
    groups = list(
        NotificationGroup.objects.exclude(group_key=f"favourite-{warm.id}").values_list(
            "group_key", "notifications_count"
        )
    )
    report = {
        "meta": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.monotonic() - started, 1),
            "load_end": list(os.getloadavg()),
            "stages": stage.loads,
            "concurrency": reads.CONCURRENCY,
            "worker_during_likes": args.worker_during,
        },
        "likes": results,
        "ratio_on_to_off": ratio,
        "target": TARGET,
        "likes_on": Post.objects.get(pk=posts["on"].id).like_count,
        "notifications": Notification.objects.filter(post_id=posts["on"].id).count(),
        "groups": groups,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'notifications':<16}{'likes/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for mode, summary in results.items():
        print(
            f"{mode:<16}{summary['rps']:>8.1f}{summary['p50_ms']:>9.1f}{summary['p99_ms']:>9.1f}{summary['errors']:>8}"
        )
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(f"likes/s on/off: {ratio:.2f} (target {TARGET}) {verdict}")
    print(f"notifications {report['notifications']} for {report['likes_on']} likes, groups {groups}")
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()
