"""Fan-out cost of the live feed: timeline inserts/s with 0 vs 1,000 open streams among the
followers, same run, on one Redis and on a 3-master cluster.

    make bench-stream-fanout                 # writes bench/results/stream_fanout.json
    .venv/bin/python bench/stream_fanout.py --followers 10000 --streams 1000 --posts 10 --repeats 5

Each configuration gets fresh Redis processes of its own on free ports. 10,000 built
timelines; each post is pushed to all of them in chunks of 10,000 (the default
``fanout_chunk_size``) through the real store with its stream publish (``markers`` and
``message``, as ``fanout_push`` sends them). Variants, interleaved within every repeat so
load from other processes hits them alike: ``no-publish`` (the push without the publish
script: the cost before the live feed), ``0 streams`` (no marker set) and ``N streams`` (N
followers marked, their channels subscribed by one connection that drains every message, as
a stream process would). Inserts/s are medians over repeats; ratios are against ``0 streams``
and ``no-publish`` of the same run. Numbers: docs/performance.md#live-feed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.cluster_fanout import (  # noqa: E402
    SingleRedis,
    build_timelines,
    make_store,
    master_ports,
    server_cpu,
)
from tests.support.cluster import LocalRedisCluster  # noqa: E402
from timelines.keys import reader_channel, stream_marker_key, stream_marker_keys, timeline_keys  # noqa: E402
from timelines.streams import post_message  # noqa: E402

CAP = 800


class Drain:
    """A subscriber process for the streaming readers' channels, on one node (a PUBLISH on any
    cluster node reaches it), counting what arrives, as a stream process would: its own
    process, so draining does not slow the pushing client."""

    def __init__(self, port: int, user_ids: list[int]) -> None:
        context = multiprocessing.get_context("fork")
        self._count = context.Value("q", 0)
        ready = context.Event()
        self.process = context.Process(target=self._run, args=(port, user_ids, ready), daemon=True)
        self.process.start()
        ready.wait(30)

    @property
    def received(self) -> int:
        return self._count.value

    def _run(self, port: int, user_ids: list[int], ready) -> None:
        pubsub = redis.Redis(port=port).pubsub(ignore_subscribe_messages=True)
        for start in range(0, len(user_ids), 500):
            pubsub.subscribe(*(reader_channel(u) for u in user_ids[start : start + 500]))
        while pubsub.get_message(timeout=0.2) is not None or not pubsub.subscribed:
            pass  # the subscribe confirmations
        ready.set()
        while True:
            if pubsub.get_message(timeout=1.0) is not None:
                with self._count.get_lock():
                    self._count.value += 1

    def stop(self) -> None:
        self.process.kill()


def push_posts(store, users: list[int], post_ids: list[int], chunk: int, publish: bool) -> float:
    """Fan ``post_ids`` out to ``users``; returns inserts/s."""
    chunks = [users[i : i + chunk] for i in range(0, len(users), chunk)]
    prepared = [(timeline_keys(c), c) for c in chunks]
    started = time.perf_counter()
    written = 0
    for post_id in post_ids:
        for keys, ids in prepared:
            extra = {}
            if publish:  # as fanout_push: the marker names are built per batch
                extra = {
                    "markers": stream_marker_keys(ids),
                    "message": post_message(post_id=post_id, author_id=1),
                }
            written += store.push(keys=keys, post_id=post_id, cap=CAP, **extra)
    elapsed = time.perf_counter() - started
    if written != len(users) * len(post_ids):
        raise SystemExit(f"only {written} of {len(users) * len(post_ids)} inserts landed")
    return written / elapsed


def bench(name: str, spec: dict, port: int, args) -> dict:
    store = make_store(spec)
    build_timelines(store, args.followers)
    users = list(range(1, args.followers + 1))
    streaming = users[:: max(1, args.followers // args.streams)][: args.streams]
    drain = Drain(port, streaming)
    store.push(keys=timeline_keys([1]), post_id=1, cap=CAP, markers=stream_marker_keys([1]), message="{}")
    variants = {"no-publish": [], "0 streams": [], f"{args.streams} streams": []}
    cpu = {variant: [] for variant in variants}  # the masters' CPU microseconds per insert
    masters = master_ports(spec)
    next_post = 10
    for repeat in range(args.repeats):
        for variant, runs in variants.items():
            if variant.endswith(" streams") and not variant.startswith("0"):
                for user_id in streaming:
                    store.client.set(stream_marker_key(user_id), 1, px=600_000)
            else:
                for user_id in streaming:
                    store.client.delete(stream_marker_key(user_id))
            posts = list(range(next_post, next_post + args.posts))
            next_post += args.posts
            before, cpu_before = drain.received, sum(server_cpu(masters))
            rate = push_posts(store, users, posts, args.chunk, publish=variant != "no-publish")
            runs.append(rate)
            used = sum(server_cpu(masters)) - cpu_before
            cpu[variant].append(used / (len(users) * len(posts)) * 1e6)
            expected = len(streaming) * len(posts) if variant == f"{args.streams} streams" else 0
            deadline = time.time() + 30
            while drain.received - before < expected and time.time() < deadline:
                time.sleep(0.05)
            got = drain.received - before
            if got != expected:
                raise SystemExit(f"{name} {variant}: {got} stream events, expected {expected}")
            run, us = f"run {repeat + 1}/{args.repeats}", cpu[variant][-1]
            print(f"  {name:10} {variant:12} {run}: {rate:,.0f} inserts/s, Redis {us:.2f} us CPU/insert")
    drain.stop()
    medians = {variant: statistics.median(runs) for variant, runs in variants.items()}
    cpu_medians = {variant: round(statistics.median(runs), 3) for variant, runs in cpu.items()}
    zero = medians["0 streams"]
    return {
        "config": name,
        "followers": args.followers,
        "streams": args.streams,
        "chunk": args.chunk,
        "median_inserts_per_s": medians,
        "runs": variants,
        "median_redis_cpu_us_per_insert": cpu_medians,
        "streams_vs_0_streams": round(medians[f"{args.streams} streams"] / zero, 3),
        "0_streams_vs_no_publish": round(zero / medians["no-publish"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--streams", type=int, default=1_000)
    parser.add_argument("--posts", type=int, default=10, help="posts fanned out per run")
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", default="single,cluster-3")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "stream_fanout.json"))
    args = parser.parse_args()
    if (
        min(args.followers, args.posts, args.chunk, args.repeats) < 1
        or not 0 < args.streams <= args.followers
    ):
        parser.error("counts must be positive, and --streams at most --followers")
    rows = []
    for name in args.configs.split(","):
        if name == "single":
            server = SingleRedis()
            spec, port = {"kind": "single", "port": server.port}, server.port
        elif name == "cluster-3":
            server = LocalRedisCluster(masters=3, replicas=0).start()
            spec, port = {"kind": "cluster", "ports": server.ports, "acks": 0}, server.ports[0]
        else:
            parser.error(f"unknown config {name!r} (single, cluster-3)")
        try:
            rows.append(bench(name, spec, port, args))
        finally:
            server.stop()
    for row in rows:
        print(
            f"{row['config']}: {row['streams']} streams / 0 streams = {row['streams_vs_0_streams']:.3f}; "
            f"0 streams / no publish = {row['0_streams_vs_no_publish']:.3f}"
        )
    Path(args.out).write_text(json.dumps({"generated_at": time.time(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
