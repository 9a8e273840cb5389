"""Fan-out throughput on one Redis node vs a Redis Cluster of 3 masters, in the same run.

    make bench-cluster                       # defaults below; writes bench/results/cluster.json
    .venv/bin/python bench/cluster_fanout.py --timelines 30000 --posts 10 --repeats 5 --clients 1,2

Each configuration gets fresh Redis processes of its own on free ports (nothing shared is
touched), N built timelines, then posts are fanned out to all of them in chunks of 1,000
through the real store (``TimelineStore.push`` / ``ClusterTimelineStore``), by 1..C
client processes at once (as that many Celery worker processes would). Throughput = timeline
writes per second, median over repeats; ratios are against the single node of the same run.
On a small shared machine the clients, not Redis, set that pace, so the benchmark also
reports each master's own CPU time per write (INFO cpu): the busiest master's figure bounds
what the configuration can absorb once enough workers feed it (its "server ceiling").

Configurations: ``single`` (one plain redis-server, the default deployment), ``cluster-1``
(a one-master cluster: the cluster client's own cost), ``cluster-3`` (3 masters) and
``cluster-3+replicas`` (3 masters with a replica each, writes waiting for a replica ack, the
production setting).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from redis.cluster import ClusterNode, RedisCluster  # noqa: E402

from tests.support.cluster import LocalRedisCluster  # noqa: E402
from tests.support.procs import die_with_parent, free_port  # noqa: E402
from tests.support.redis import redis_server_args, redis_wait  # noqa: E402
from timelines.keys import timeline_key  # noqa: E402
from timelines.store import COMPLETE, ClusterTimelineStore, TimelineStore  # noqa: E402

CHUNK = 1000
CAP = 800


class SingleRedis:
    """One plain redis-server on a free port, no persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="feedsite-bench-")
        self.process = subprocess.Popen(
            redis_server_args(self.port, self.workdir),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )  # fmt: skip
        redis_wait(self.port, timeout=30)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def make_store(spec: dict) -> TimelineStore:
    if spec["kind"] == "single":
        return TimelineStore(redis.Redis(host="127.0.0.1", port=spec["port"]))
    nodes = [ClusterNode("127.0.0.1", port) for port in spec["ports"]]
    client = RedisCluster(startup_nodes=nodes)
    return ClusterTimelineStore(client, replica_acks=spec["acks"], ack_timeout_ms=1000)


def build_timelines(store: TimelineStore, count: int) -> None:
    for start in range(1, count + 1, 5000):
        with store.client.pipeline(transaction=False) as pipe:
            for user_id in range(start, min(start + 5000, count + 1)):
                pipe.delete(timeline_key(user_id))
                pipe.rpush(timeline_key(user_id), COMPLETE)
            pipe.execute()


def _client(spec: dict, chunks: list[list[int]], post_ids: list[int], barrier, results) -> None:
    store = make_store(spec)
    keyed = [[timeline_key(u) for u in chunk] for chunk in chunks]
    store.push(keys=["bench:{warm-up}"], post_id=1, cap=CAP)  # connect, load scripts
    barrier.wait()
    started = time.perf_counter()
    written = 0
    for post_id in post_ids:
        for keys in keyed:
            written += store.push(keys=keys, post_id=post_id, cap=CAP)
    results.put((written, time.perf_counter() - started))


def master_ports(spec: dict) -> list[int]:
    if spec["kind"] == "single":
        return [spec["port"]]
    return [port for port in spec["ports"] if redis.Redis(port=port).info("replication")["role"] == "master"]


def server_cpu(ports: list[int]) -> list[float]:
    """CPU seconds each server has used so far (user + system)."""
    infos = [redis.Redis(port=port).info("cpu") for port in ports]
    return [info["used_cpu_user"] + info["used_cpu_sys"] for info in infos]


def run_once(spec: dict, timelines: int, posts: list[int], clients: int) -> tuple[float, float]:
    """Fan ``posts`` out to every timeline with ``clients`` processes. Returns timeline
    writes/s, and the busiest master's CPU time per write in microseconds: what bounds the
    cluster's throughput once clients are not the bottleneck (1e6 / it = that node's ceiling)."""
    users = list(range(1, timelines + 1))
    chunks = [users[i : i + CHUNK] for i in range(0, timelines, CHUNK)]
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()
    shares = [chunks[i::clients] for i in range(clients)]
    procs = [context.Process(target=_client, args=(spec, share, posts, barrier, results)) for share in shares]
    for proc in procs:
        proc.start()
    masters = master_ports(spec)
    cpu_before = server_cpu(masters)
    barrier.wait()
    started = time.perf_counter()
    outcomes = [results.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - started
    cpu_used = [after - before for before, after in zip(cpu_before, server_cpu(masters), strict=True)]
    for proc in procs:
        proc.join()
    written = sum(w for w, _ in outcomes)
    if written != timelines * len(posts):
        raise SystemExit(f"only {written} of {timelines * len(posts)} writes landed")
    return written / elapsed, max(cpu_used) / written * 1e6


def bench(configs: dict[str, dict], args) -> list[dict]:
    """Every configuration in turn within each repeat, so load from other processes on the
    machine hits them all alike; medians per configuration and client count."""
    for spec in configs.values():
        build_timelines(make_store(spec), args.timelines)
    rates: dict[tuple[str, int], list[float]] = {(n, c): [] for n in configs for c in args.clients}
    busiest: dict[tuple[str, int], list[float]] = {(n, c): [] for n in configs for c in args.clients}
    next_post = 10
    for repeat in range(args.repeats):
        for clients in args.clients:
            posts = list(range(next_post, next_post + args.posts))
            next_post += args.posts
            for name, spec in configs.items():
                rate, cpu_us = run_once(spec, args.timelines, posts, clients)
                rates[name, clients].append(rate)
                busiest[name, clients].append(cpu_us)
                run = f"run {repeat + 1}/{args.repeats}"
                print(
                    f"  {name:20} clients={clients} {run}: {rate:,.0f} writes/s, "
                    f"busiest master {cpu_us:.2f} us CPU/write",
                    flush=True,
                )
    for spec in configs.values():  # every timeline holds every post once, newest first
        sample = make_store(spec).read(timeline_key(args.timelines))
        assert sample.ids == list(range(next_post - 1, 9, -1)), "a timeline lost or doubled a post"
    rows = []
    for (name, clients), runs in rates.items():
        cpu_us = statistics.median(busiest[name, clients])
        rows.append({
            "config": name,
            "clients": clients,
            "median_writes_per_s": statistics.median(runs),
            "runs": runs,
            "busiest_master_cpu_us_per_write": round(cpu_us, 3),
            "server_ceiling_writes_per_s": round(1e6 / cpu_us),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timelines", type=int, default=30_000)
    parser.add_argument("--posts", type=int, default=5, help="posts fanned out per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", default="1,2", help="comma-separated client process counts")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cluster.json"))
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    if args.timelines < 1 or args.posts < 1 or args.repeats < 1 or min(args.clients) < 1:
        parser.error("--timelines, --posts, --repeats and --clients must be positive")

    starters = {
        "single": (SingleRedis, lambda s: {"kind": "single", "port": s.port}),
        "cluster-1": (lambda: LocalRedisCluster(masters=1, replicas=0).start(),
                      lambda c: {"kind": "cluster", "ports": c.ports, "acks": 0}),
        "cluster-3": (lambda: LocalRedisCluster(masters=3, replicas=0).start(),
                      lambda c: {"kind": "cluster", "ports": c.ports, "acks": 0}),
        "cluster-3+replicas": (lambda: LocalRedisCluster(masters=3, replicas=1).start(),
                               lambda c: {"kind": "cluster", "ports": c.ports, "acks": 1}),
    }  # fmt: skip
    print(
        f"fan-out of {args.posts} posts x {args.timelines:,} timelines per run, chunks of {CHUNK}, "
        f"{args.repeats} repeats, clients {args.clients}",
        flush=True,
    )
    # SIGTERM runs the cleanup below too (servers also die with this process, see die_with_parent).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    servers, configs = [], {}
    try:
        for name, (start, spec_of) in starters.items():
            print(f"{name}: starting servers", flush=True)
            servers.append(start())
            configs[name] = spec_of(servers[-1])
        rows = bench(configs, args)
    finally:
        for server in servers:
            server.stop()

    baseline = {r["clients"]: r for r in rows if r["config"] == "single"}
    for row in rows:
        base = baseline[row["clients"]]
        row["ratio_vs_single"] = round(row["median_writes_per_s"] / base["median_writes_per_s"], 3)
        ceiling = row["server_ceiling_writes_per_s"] / base["server_ceiling_writes_per_s"]
        row["ceiling_ratio_vs_single"] = round(ceiling, 3)
    result = {
        "benchmark": "cluster_fanout",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip(),
        "params": {"timelines": args.timelines, "posts": args.posts, "repeats": args.repeats, "chunk": CHUNK},
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{'config':20} {'clients':>7} {'median writes/s':>16} {'vs single':>9} "
        f"{'busiest us/write':>16} {'server ceiling/s':>16} {'vs single':>9}"
    )
    for row in rows:
        print(
            f"{row['config']:20} {row['clients']:>7} {row['median_writes_per_s']:>16,.0f} "
            f"{row['ratio_vs_single']:>8.2f}x {row['busiest_master_cpu_us_per_write']:>16.2f} "
            f"{row['server_ceiling_writes_per_s']:>16,} {row['ceiling_ratio_vs_single']:>8.2f}x"
        )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
