"""The capacity model behind ``manage.py feed_capacity``: the unit costs that ``make bench``
measured as cost curves (bench/results/latest.json; docs/performance.md#curves), scaled to a
target population. Each unit cost is a slope or a point of a named curve, and says which.

Pure arithmetic on stated assumptions; every assumption is an argument and is printed."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measured:
    """Unit costs from one benchmark run (its ``per_operation`` block), from its curves."""

    fanout_inserts_per_s_per_worker: float  # curve 4: 1 / slope of time vs followers, 1 worker
    fanout_ms_per_post: float  # curve 4: the fit's intercept, a post's fixed cost
    redis_lpush_per_s: float  # redis-benchmark LPUSH -P 64, one Redis process
    bytes_per_entry: float  # curve 5: the largest, ids past 2**32
    feed_read_core_ms: float  # curve 3: a page with no pull-mode followee, web tier + PostgreSQL
    merge_core_ms_per_outbox: float  # curve 3: the slope per pull-mode followee
    rebuild_ms: list[tuple[int, float]]  # curve 2: (followees, cold first page ms), worst reader kind
    source: str  # which run
    sources: dict[str, str] = field(default_factory=dict)  # which curve each figure came from

    @classmethod
    def from_results(cls, results: dict, *, source: str) -> Measured:
        op = results["per_operation"]
        worst: dict[int, float] = {}
        for point in op["rebuild_ms_by_followees"]:
            worst[point["followees"]] = max(worst.get(point["followees"], 0.0), point["p50_ms"])
        return cls(
            fanout_inserts_per_s_per_worker=op["fanout_inserts_per_s_per_worker"],
            fanout_ms_per_post=max(0.0, op["fanout_ms_per_post"]),
            redis_lpush_per_s=op["redis_lpush_per_s"],
            bytes_per_entry=max(p["bytes_per_entry_large_ids"] for p in results["memory_curve"]["points"]),
            feed_read_core_ms=op["feed_read_core_ms_no_pull"],
            merge_core_ms_per_outbox=max(0.0, op["merge_core_ms_per_outbox"]),
            rebuild_ms=sorted(worst.items()),
            source=source,
            sources={**op["sources"], "bytes_per_entry": "curve 5: the largest over its points"},
        )

    def rebuild_ms_at(self, followees: float) -> float:
        """Curve 2 at ``followees``: interpolated on a log scale between its points, the end
        points beyond them."""
        xs = [x for x, _ in self.rebuild_ms]
        i = bisect.bisect_left(xs, followees)
        if i == 0:
            return self.rebuild_ms[0][1]
        if i == len(xs):
            return self.rebuild_ms[-1][1]
        (x0, y0), (x1, y1) = self.rebuild_ms[i - 1], self.rebuild_ms[i]
        t = (math.log(followees) - math.log(x0)) / (math.log(x1) - math.log(x0))
        return y0 + t * (y1 - y0)


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
    cold_read_share: float = 0.01  # feed reads that find no timeline and rebuild it


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
    read_core_ms: float  # mean per feed read: base + merges + the rebuild share
    merge_core_ms_per_read: float
    rebuild_core_ms_per_read: float
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
    posts_peak = a.posts_per_day / 86_400 * a.peak_factor  # each pays the per-post fixed cost
    worker_seconds = recipients_peak / measured.fanout_inserts_per_s_per_worker
    workers = math.ceil(worker_seconds + posts_peak * measured.fanout_ms_per_post / 1000)
    entries = a.users * a.active_share * a.timeline_length
    timeline_gb = entries * measured.bytes_per_entry / 1e9
    outbox_gb = pull_accounts * a.timeline_length * measured.bytes_per_entry / 1e9
    memory_shards = math.ceil((timeline_gb + outbox_gb) / a.shard_memory_gb)
    write_shards = math.ceil(recipients_peak / (measured.redis_lpush_per_s * a.shard_write_share))
    reads_peak = a.users * a.active_share * a.reads_per_active_user_per_day / 86_400 * a.peak_factor
    pulled = a.avg_follows * (1 - push_share)  # expected pull-mode followees a reader merges
    merge_ms = pulled * measured.merge_core_ms_per_outbox
    rebuild_ms = a.cold_read_share * measured.rebuild_ms_at(a.avg_follows)
    read_ms = measured.feed_read_core_ms + merge_ms + rebuild_ms
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
        read_core_ms=read_ms,
        merge_core_ms_per_read=merge_ms,
        rebuild_core_ms_per_read=rebuild_ms,
        web_cores=math.ceil(reads_peak * read_ms / 1000),
    )
