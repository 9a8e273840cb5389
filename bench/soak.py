"""``make soak``: a bounded soak of the real service under mixed load.

A real gunicorn and Celery worker run against a scratch database (``<DATABASE_URL's name>_soak``,
dropped and recreated) and the Redis database of ``SOAK_REDIS_URL`` (default ``REDIS_URL``),
which it FLUSHDBs. Client threads then read feeds (both feed modes, first and second pages),
post, follow and unfollow, and delete posts for ``--seconds``, while a probe measures fan-out
lag: how long from a ``POST`` until the post is in a follower's feed. At the end it waits for
the queues to drain and runs ``check_feeds`` over every user.

Passes (exit 0) only with zero errors (no 5xx, no transport errors, no unexpected 4xx), fan-out
lag p95 under ``--max-lag`` seconds, and ``check_feeds`` clean. Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

from bench.percentiles import percentile
from bench.scratch import bench_env, scratch_database_url, scratch_setup

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


class Load:
    """Mixed traffic from one thread, with its own keep-alive connections."""

    def __init__(self, base_url: str, tokens: dict[int, str], seed: int, stats: Stats) -> None:
        from bench.http import Client

        self.base_url, self.tokens = base_url, tokens
        self.clients = {user_id: Client(base_url, token) for user_id, token in tokens.items()}
        self.ids = list(tokens)
        self.rng = random.Random(seed)
        self.stats = stats
        self.own_posts: list[tuple[int, int]] = []

    def call(self, op: str, user_id: int, method: str, path: str, body: dict | None = None, ok=(200,)):
        started = time.monotonic()
        try:
            status, data = self.clients[user_id].request(method, path, body)
        except Exception as exc:  # every transport failure is an error to report
            self.stats.error(op, f"{type(exc).__name__}: {exc}")
            from bench.http import Client

            self.clients[user_id] = Client(self.base_url, self.tokens[user_id])  # a fresh connection
            return None
        self.stats.record(op, status, time.monotonic() - started, ok)
        return data if status in ok else None

    def step(self) -> None:
        me = self.rng.choice(self.ids)
        roll = self.rng.random()
        if roll < 0.55:
            mode = "ranked" if self.rng.random() < 0.2 else "chronological"
            page = self.call("read", me, "GET", f"/api/feed/?mode={mode}&limit=20")
            if page and page.get("next") and self.rng.random() < 0.3:
                url = urllib.parse.urlparse(page["next"])
                self.call("read", me, "GET", f"{url.path}?{url.query}")
        elif roll < 0.75:
            data = self.call(
                "post", me, "POST", "/api/posts/", {"body": f"soak {self.rng.random()}"}, ok=(201,)
            )
            if data:
                self.own_posts.append((me, data["id"]))
        elif roll < 0.92:
            other = self.rng.choice(self.ids)
            if other == me:
                return
            if self.rng.random() < 0.6:
                self.call("follow", me, "POST", f"/api/accounts/{other}/follow/", ok=(200, 201))
            else:
                self.call("unfollow", me, "DELETE", f"/api/accounts/{other}/follow/", ok=(204,))
        elif self.own_posts:
            author, post_id = self.own_posts.pop(self.rng.randrange(len(self.own_posts)))
            self.call("delete", author, "DELETE", f"/api/posts/{post_id}/", ok=(204,))


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def record(self, op: str, status: int, seconds: float, ok) -> None:
        with self.lock:
            self.statuses[op][status] += 1
            self.latency[op].append(seconds)
            if status not in ok:
                self.errors.append(f"{op}: HTTP {status}")

    def error(self, op: str, message: str) -> None:
        with self.lock:
            self.statuses[op]["transport error"] += 1
            self.errors.append(f"{op}: {message}")


def probe_lag(base_url: str, author_token: str, reader_token: str, stop: threading.Event, lags: list) -> None:
    """Every second: the probe author posts; poll the follower's feed until the post is in it."""
    from bench.http import Client

    author, reader = Client(base_url, author_token), Client(base_url, reader_token)
    while not stop.is_set():
        status, data = author.post_json("/api/posts/", {"body": "lag probe"})
        if status != 201:
            lags.append(float("inf"))
            continue
        posted, post_id = time.monotonic(), data["id"]
        while True:
            status, page = reader.get("/api/feed/?mode=chronological&limit=5")
            if status == 200 and post_id in {p["id"] for p in page["results"]}:
                lags.append(time.monotonic() - posted)
                break
            if time.monotonic() - posted > 60:
                lags.append(float("inf"))
                break
            time.sleep(0.02)
        stop.wait(1.0)


def seed(users: int, follows: int, rng: random.Random) -> dict:
    """Accounts with tokens, a random follow graph with two pull-mode celebrities, and the
    lag probe pair (a push-mode author and a follower)."""
    from django.db.models import Count

    from bench.http import token_for
    from graph.models import Account, FanoutMode, Follow

    accounts = Account.objects.bulk_create(Account(username=f"soak{i}", password="!") for i in range(users))
    ids = [a.id for a in accounts]
    celebrities = ids[:2]
    Account.objects.filter(id__in=celebrities).update(fanout_override=FanoutMode.PULL)
    edges = set()
    for user_id in ids:
        for other in rng.sample(ids, follows) + celebrities:
            if other != user_id:
                edges.add((user_id, other))
    Follow.objects.bulk_create(Follow(follower_id=a, followee_id=b) for a, b in edges)
    for account in Account.objects.annotate(n_in=Count("follower_edges"), n_out=Count("following_edges")):
        Account.objects.filter(id=account.id).update(
            followers_count=account.n_in, following_count=account.n_out
        )
    probe_author, probe_reader = Account.objects.create(username="probe_author"), ids[-1]
    Follow.objects.create(follower_id=probe_reader, followee=probe_author)
    Account.objects.filter(id=probe_reader).update(
        following_count=len([e for e in edges if e[0] == probe_reader]) + 1
    )
    Account.objects.filter(id=probe_author.id).update(followers_count=1)
    tokens = {account.id: token_for(account) for account in Account.objects.filter(id__in=ids)}
    return {
        "tokens": tokens,
        "probe_author": token_for(probe_author),
        "probe_reader": tokens[probe_reader],
        "follows": len(edges),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180, help="load duration (default 180)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--follows", type=int, default=20, help="random follows per user")
    parser.add_argument("--max-lag", type=float, default=5.0, help="p95 fan-out lag bound, seconds")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)

    database_url = scratch_database_url("_soak")
    redis_url = os.environ.get("SOAK_REDIS_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    env = {**bench_env(redis_url, database_url), "FEED_THROTTLES": "off", "BENCH_ENDPOINTS": "0"}

    print(
        f"soak: scratch database {urllib.parse.urlparse(database_url).path[1:]}, Redis {redis_url}",
        flush=True,
    )
    scratch_setup(env)
    from timelines.store import get_store

    rng = random.Random(args.seed)
    world = seed(args.users, args.follows, rng)
    print(f"seeded {args.users} users, {world['follows']} follows (2 pull-mode celebrities)", flush=True)

    from tests.support.celery import celery_worker
    from tests.support.http import gunicorn

    stats, lags = Stats(), []
    with celery_worker(env, concurrency=2), gunicorn(env, workers=2) as base_url:
        stop = threading.Event()
        loads = [Load(base_url, world["tokens"], args.seed + i, stats) for i in range(args.threads)]

        def run(load: Load) -> None:
            while not stop.is_set():
                load.step()

        threads = [threading.Thread(target=run, args=(load,)) for load in loads]
        threads.append(
            threading.Thread(
                target=probe_lag, args=(base_url, world["probe_author"], world["probe_reader"], stop, lags)
            )
        )
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() - started < args.seconds:
            time.sleep(max(0.1, min(15, args.seconds - (time.monotonic() - started))))
            done = sum(sum(c.values()) for c in stats.statuses.values())
            print(
                f"  {time.monotonic() - started:5.0f} s: {done} requests, {len(stats.errors)} errors",
                flush=True,
            )
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        # Quiescence: every post fanned out and the queues empty, then the consistency check.
        from posts.models import FanoutState, Post

        client = get_store().client
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            queued = sum(client.llen(q) for q in ("celery", "fanout", "fanout_bulk")) + client.hlen("unacked")
            if not queued and not Post.objects.filter(fanout_state=FanoutState.PENDING).exists():
                break
            time.sleep(0.5)
        drained = time.monotonic() - started - elapsed
        check = subprocess.run(
            [sys.executable, "manage.py", "check_feeds", "--sample", str(args.users), "--depth", "200"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    finite = [lag for lag in lags if lag != float("inf")]
    requests = {op: sum(counter.values()) for op, counter in stats.statuses.items()}
    result = {
        "seconds": round(elapsed, 1),
        "threads": args.threads,
        "users": args.users,
        "requests": requests,
        "throughput_per_s": round(sum(requests.values()) / elapsed, 1),
        "statuses": {op: {str(k): v for k, v in c.items()} for op, c in stats.statuses.items()},
        "latency_ms": {
            op: {"p50": round(percentile(v, 50) * 1000, 1), "p95": round(percentile(v, 95) * 1000, 1)}
            for op, v in stats.latency.items()
        },
        "errors": len(stats.errors),
        "error_samples": stats.errors[:10],
        "fanout_lag_s": {
            "probes": len(lags),
            "lost": len(lags) - len(finite),
            "p50": round(percentile(finite, 50), 3) if finite else None,
            "p95": round(percentile(finite, 95), 3) if finite else None,
            "max": round(max(finite), 3) if finite else None,
        },
        "drain_s": round(drained, 1),
        "check_feeds": (check.stdout.strip() or check.stderr.strip()).splitlines()[-1:],
        "check_feeds_exit": check.returncode,
    }
    lag = result["fanout_lag_s"]
    passed = (
        result["errors"] == 0
        and lag["lost"] == 0
        and lag["p95"] is not None
        and lag["p95"] <= args.max_lag
        and check.returncode == 0
    )
    result["passed"] = passed
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")

    print(f"\nsoak: {elapsed:.0f} s, {args.threads} threads, {sum(requests.values())} requests "
          f"({result['throughput_per_s']}/s), {result['errors']} errors")  # fmt: skip
    for op in sorted(requests):
        latency = result["latency_ms"][op]
        print(f"  {op:9s} {requests[op]:6d}  p50 {latency['p50']:7.1f} ms  p95 {latency['p95']:7.1f} ms  "
              f"{result['statuses'][op]}")  # fmt: skip
    print(f"fan-out lag over {lag['probes']} probes: p50 {lag['p50']} s, p95 {lag['p95']} s, "
          f"max {lag['max']} s, lost {lag['lost']}")  # fmt: skip
    print(f"queues drained {result['drain_s']} s after the load; check_feeds: {result['check_feeds']}")
    if stats.errors:
        print("errors (first 10):", *stats.errors[:10], sep="\n  ")
    print("PASS" if passed else "FAIL", "(results in bench/results/soak.json)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
