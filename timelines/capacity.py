"""The capacity model behind ``manage.py feed_capacity``: the per-operation costs that
``make bench`` measured (bench/results/latest.json), scaled to a target population.

Pure arithmetic on stated assumptions; every assumption is an argument and is printed."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    """Unit costs from one benchmark run (its ``per_operation`` block)."""

    fanout_inserts_per_s_per_worker: float  # one Celery worker process, sustained
    redis_lpush_per_s: float  # redis-benchmark LPUSH -P 64, one Redis process
    bytes_per_entry: float  # Redis memory per timeline entry, ids past 2**32
    feed_read_core_ms: float  # CPU per feed page on the web tier (2 cores / measured req/s)
    source: str  # which run

    @classmethod
    def from_results(cls, results: dict, *, source: str) -> Measured:
        op = results["per_operation"]
        return cls(
            fanout_inserts_per_s_per_worker=op["fanout_inserts_per_s_1_worker"],
            redis_lpush_per_s=op["redis_lpush_per_s"],
            bytes_per_entry=op["redis_bytes_per_entry"],
            feed_read_core_ms=op["feed_read_core_ms"],
            source=source,
        )


@dataclass(frozen=True)
class Assumptions:
    users: int
    posts_per_day: float
    avg_follows: float
    threshold: int
    active_share: float  # users who read within the inactive window: only they have timelines
    reads_per_active_user_per_day: float
    timeline_length: int
    peak_factor: float  # peak / daily mean, for writes and reads
    zipf_exponent: float  # popularity of the account of rank r ~ 1 / (r + 1) ** s
    shard_memory_gb: float  # usable memory per Redis shard
    shard_write_share: float  # share of one Redis process's LPUSH rate we plan to use
    replicas: int  # replicas per Redis shard (memory only)


@dataclass(frozen=True)
class Estimate:
    threshold: int
    pull_accounts: int
    push_edge_share: float
    fanout_writes_per_s: float
    fanout_writes_per_s_peak: float
    fanout_recipients_per_s_peak: float  # LPUSHX sent, active or not
    workers: int
    timeline_memory_gb: float
    outbox_memory_gb: float
    shards_for_memory: int
    shards_for_writes: int
    shards: int  # masters; each has ``replicas`` replicas holding the same memory
    feed_reads_per_s_peak: float
    pulled_outboxes_per_read: float
    web_cores: int


def _power_sum(n: float, s: float) -> float:
    """sum_{r=1..n} r ** -s, exact up to 10**5 terms, Euler-Maclaurin beyond."""
    exact = min(int(n), 100_000)
    total = math.fsum(r**-s for r in range(1, exact + 1))
    if n > exact:
        a, b = exact + 0.5, n + 0.5
        total += math.log(b / a) if s == 1 else (b ** (1 - s) - a ** (1 - s)) / (1 - s)
    return total


def follower_split(
    *, users: int, avg_follows: float, zipf_exponent: float, threshold: int
) -> tuple[int, float]:
    """Accounts at or above ``threshold`` followers (pull mode) and the share of all follow
    edges that point below it (push), if followers go to rank r in proportion to
    1 / r ** s, as in the benchmark's generator (graph.synthetic)."""
    edges = users * avg_follows
    norm = _power_sum(users, zipf_exponent)
    # followers(r) = edges * r**-s / norm >= threshold  <=>  r <= (edges / (threshold * norm)) ** (1/s)
    cutoff = int(min(users, (edges / (threshold * norm)) ** (1 / zipf_exponent))) if threshold > 0 else users
    pull_share = _power_sum(cutoff, zipf_exponent) / norm if cutoff else 0.0
    return cutoff, 1.0 - pull_share


def capacity_estimate(
    *, assumptions: Assumptions, measured: Measured, threshold: int | None = None
) -> Estimate:
    a = assumptions
    threshold = a.threshold if threshold is None else threshold
    pull_accounts, push_share = follower_split(
        users=a.users, avg_follows=a.avg_follows, zipf_exponent=a.zipf_exponent, threshold=threshold
    )
    # Every post goes to its author's whole push-mode audience (authors post alike): one LPUSHX
    # per follower, which writes only the timelines of active readers (the others expired).
    # Workers and Redis pay per follower; a no-op LPUSHX costs Redis less, counted in full.
    recipients_peak = a.posts_per_day / 86_400 * a.avg_follows * push_share * a.peak_factor
    writes = recipients_peak / a.peak_factor * a.active_share
    peak = writes * a.peak_factor
    workers = math.ceil(recipients_peak / measured.fanout_inserts_per_s_per_worker)
    entries = a.users * a.active_share * a.timeline_length
    timeline_gb = entries * measured.bytes_per_entry / 1e9
    outbox_gb = pull_accounts * a.timeline_length * measured.bytes_per_entry / 1e9
    memory_shards = math.ceil((timeline_gb + outbox_gb) / a.shard_memory_gb)
    write_shards = math.ceil(recipients_peak / (measured.redis_lpush_per_s * a.shard_write_share))
    reads_peak = a.users * a.active_share * a.reads_per_active_user_per_day / 86_400 * a.peak_factor
    pulled = a.avg_follows * (1 - push_share)  # expected pull-mode followees a reader merges
    return Estimate(
        threshold=threshold,
        pull_accounts=pull_accounts,
        push_edge_share=push_share,
        fanout_writes_per_s=writes,
        fanout_writes_per_s_peak=peak,
        fanout_recipients_per_s_peak=recipients_peak,
        workers=workers,
        timeline_memory_gb=timeline_gb,
        outbox_memory_gb=outbox_gb,
        shards_for_memory=memory_shards,
        shards_for_writes=write_shards,
        shards=max(memory_shards, write_shards, 1),
        feed_reads_per_s_peak=reads_peak,
        pulled_outboxes_per_read=pulled,
        web_cores=math.ceil(reads_peak * measured.feed_read_core_ms / 1000),
    )
