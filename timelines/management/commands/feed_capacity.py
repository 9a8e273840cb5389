"""manage.py feed_capacity: what the measured per-operation costs mean at a target scale."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from timelines.capacity import Assumptions, Measured, capacity_estimate

DEFAULT_RESULTS = Path(settings.BASE_DIR) / "bench" / "results" / "latest.json"


def _positive(kind):
    def parse(raw: str):
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"not a number: {raw!r}") from None
        if value <= 0:
            raise ValueError(f"must be positive: {raw!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _share(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError(f"must be in (0, 1]: {raw!r}")
    return value


class Command(BaseCommand):
    help = (
        "Scale the unit costs that `make bench` measured as cost curves (bench/results/latest.json: "
        "fan-out slope from curve 4, outbox merge slope from curve 3, rebuild cost from curve 2, "
        "memory from curve 5) to a target population: fan-out writes/s, Redis memory, worker "
        "processes, Redis shards, feed read cost, and how the celebrity threshold moves them. "
        "Prints its assumptions and where each figure came from."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add = parser.add_argument
        add("--users", type=_positive(int), default=500_000_000)
        add("--posts-per-day", type=_positive(float), default=100_000_000)
        add("--avg-follows", type=_positive(float), default=200)
        add("--threshold", type=_positive(int), default=10_000, help="celebrity threshold (followers)")
        add("--active-share", type=_share, default=0.3, help="users who read within the inactive window")
        add("--reads-per-user-per-day", type=_positive(float), default=20, help="feed pages per active user")
        add("--timeline-length", type=_positive(int), default=800)
        add("--peak-factor", type=_positive(float), default=3.0, help="peak over daily mean")
        add("--zipf-exponent", type=_positive(float), default=0.9, help="popularity ~ 1 / rank ** s")
        add("--shard-memory-gb", type=_positive(float), default=25.0, help="usable memory per Redis shard")
        add("--shard-write-share", type=_share, default=0.5, help="share of measured LPUSH/s to plan for")
        add("--replicas", type=int, default=1, choices=range(0, 6), metavar="{0..5}")
        add("--cold-read-share", type=_share, default=0.01, help="feed reads that rebuild the timeline")
        add("--results", type=Path, default=DEFAULT_RESULTS, help="a make bench latest.json")

    def handle(self, *args, **options) -> None:
        path: Path = options["results"]
        try:
            results = json.loads(path.read_text())
            measured = Measured.from_results(results, source=f"{path} ({results['meta']['date']})")
        except FileNotFoundError:
            raise CommandError(f"no benchmark results at {path}: run `make bench` first") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise CommandError(f"{path} is not a make bench result ({exc})") from None
        a = Assumptions(
            users=options["users"],
            posts_per_day=options["posts_per_day"],
            avg_follows=options["avg_follows"],
            threshold=options["threshold"],
            active_share=options["active_share"],
            reads_per_active_user_per_day=options["reads_per_user_per_day"],
            timeline_length=options["timeline_length"],
            peak_factor=options["peak_factor"],
            zipf_exponent=options["zipf_exponent"],
            shard_memory_gb=options["shard_memory_gb"],
            shard_write_share=options["shard_write_share"],
            replicas=options["replicas"],
            cold_read_share=options["cold_read_share"],
        )
        out = self.stdout.write
        out(f"Measured (per operation, from the cost curves), from {measured.source}:")
        src, m = measured.sources, measured
        rows = [
            (f"fan-out: {m.fanout_inserts_per_s_per_worker:,.0f} timeline inserts/s per worker process",
             src.get("fanout_inserts_per_s_per_worker")),
            (f"fan-out: {m.fanout_ms_per_post:.1f} ms of fixed cost per post", src.get("fanout_ms_per_post")),
            (f"Redis: {m.redis_lpush_per_s:,.0f} LPUSH/s per process", "redis-benchmark -P 64, same run"),
            (f"Redis memory: {measured.bytes_per_entry:.1f} bytes per timeline entry (ids past 2**32)",
             src.get("bytes_per_entry")),
            (f"feed page: {measured.feed_read_core_ms:.1f} core-ms (web tier, PostgreSQL included)",
             src.get("feed_read_core_ms_no_pull")),
            (f"outbox merge: {measured.merge_core_ms_per_outbox:.3f} core-ms per pull-mode followee",
             src.get("merge_core_ms_per_outbox")),
            (f"rebuild: {measured.rebuild_ms_at(options['avg_follows']):.1f} ms at {options['avg_follows']:g}"
             " followees (log-interpolated, worse reader kind)", src.get("rebuild_ms_by_followees")),
        ]  # fmt: skip
        for figure, where in rows:
            out(f"  {figure}")
            out(f"      <- {where}")
        out("Assumptions:")
        out(f"  {a.users:,} users, {a.posts_per_day:,.0f} posts/day spread evenly over authors")
        out(f"  {a.avg_follows:g} follows per user; rank-r account's followers ~ 1/r**{a.zipf_exponent:g}")
        out(f"  {a.active_share:.0%} of users active (timelines kept, and fan-out writes, only for them)")
        reads = a.reads_per_active_user_per_day
        out(f"  {reads:g} feed pages per active user a day; peak {a.peak_factor:g}x the daily mean")
        out(f"  timelines of {a.timeline_length} ids; Redis shards of {a.shard_memory_gb:g} GB usable")
        out(f"  writes planned at {a.shard_write_share:.0%} of the measured LPUSH rate")
        out(f"  {a.replicas} replica(s) per shard")
        out(f"  {a.cold_read_share:.1%} of feed reads find no timeline and rebuild it (curve 2's cost)")
        out("  workers and shards scale linearly from the measured machine (no network hops counted)")

        main = capacity_estimate(assumptions=a, measured=measured)
        out(f"\nAt threshold {a.threshold:,}:")
        rows = [
            ("pull-mode accounts", f"{main.pull_accounts:,}"),
            ("follow edges served by push", f"{main.push_edge_share:.1%}"),
            (
                "fan-out writes/s (mean / peak)",
                f"{main.fanout_writes_per_s:,.0f} / {main.fanout_writes_per_s_peak:,.0f}",
            ),
            ("fan-out recipients/s, active or not (peak)", f"{main.fanout_recipients_per_s_peak:,.0f}"),
            ("fan-out worker processes (peak)", f"{main.workers:,}"),
            (
                "Redis memory for timelines",
                f"{main.timeline_memory_gb:,.0f} GB (+{main.outbox_memory_gb:,.2f} GB outboxes)",
            ),
            (
                "Redis shards (masters)",
                f"{main.shards:,} (memory needs {main.shards_for_memory:,}, "
                f"writes {main.shards_for_writes:,}); {main.shards * (1 + a.replicas):,} with replicas",
            ),
            ("feed reads/s (peak)", f"{main.feed_reads_per_s_peak:,.0f}"),
            ("outboxes merged per read (mean)", f"{main.pulled_outboxes_per_read:.1f}"),
            (
                "core-ms per feed read (mean)",
                f"{main.read_core_ms:.1f} (page {measured.feed_read_core_ms:.1f} + merges "
                f"{main.merge_core_ms_per_read:.1f} + rebuilds {main.rebuild_core_ms_per_read:.2f})",
            ),
            ("web-tier cores for feed reads (peak)", f"{main.web_cores:,}"),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            out(f"  {key.ljust(width)}  {value}")

        out("\nHow the threshold moves them:")
        header = ("threshold", "pull accounts", "push share", "writes/s peak", "workers", "outboxes/read")
        out("  " + "  ".join(h.rjust(14) for h in header))
        for threshold in sorted(
            {max(1, a.threshold // 10), a.threshold, a.threshold * 10, a.threshold * 100}
        ):
            e = capacity_estimate(assumptions=a, measured=measured, threshold=threshold)
            cells = (
                f"{threshold:,}",
                f"{e.pull_accounts:,}",
                f"{e.push_edge_share:.1%}",
                f"{e.fanout_writes_per_s_peak:,.0f}",
                f"{e.workers:,}",
                f"{e.pulled_outboxes_per_read:.1f}",
            )
            out("  " + "  ".join(c.rjust(14) for c in cells))
        out(
            "A lower threshold moves writes from fan-out (workers, Redis write load) to reads (more "
            "outboxes merged per feed page); a higher one does the opposite."
        )
