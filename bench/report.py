"""latest.json, the PNG plots and the summary table (medians and ratios to the baselines);
the five cost curves' targets, tables and plots come from bench/curves_report.py and
bench/curves_plots.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.curves_plots import curves_plot
from bench.curves_report import curve_tables, curve_targets, curve_unit_costs


def per_operation(results: dict) -> dict:
    """The measured unit costs that ``manage.py feed_capacity`` scales up."""
    fan = {row["workers"]: row for row in results["fanout"]}
    reads = results["reads"]
    cores = 2  # the machine the numbers come from; kept in meta.machine as well
    return {
        "fanout_inserts_per_s_1_worker": fan[1]["burst"]["inserts_per_s"],
        "fanout_inserts_per_s_2_workers": fan[2]["burst"]["inserts_per_s"],
        "redis_lpush_per_s": results["redis_benchmark"]["requests_per_s"],
        "redis_bytes_per_entry": results["memory"]["bytes_per_entry_large_ids"],
        "feed_reads_per_s": reads["feed_typical"]["rps"],
        "feed_read_core_ms": cores * 1000 / reads["feed_typical"]["rps"]
        if reads["feed_typical"]["rps"]
        else None,
        "cold_reads_per_s": reads["feed_cold"]["rps"],
        "ping_per_s": reads["ping"]["rps"],
        "cores": cores,
        **curve_unit_costs(results),
    }


def targets(results: dict) -> list[dict]:
    """Issue 5's freshness and (a) targets, then one line per target of the curves (issue 14,
    which replaced (b) with curve 1's and restated fan-out and memory as curves 4 and 5)."""
    fresh = max(results["freshness"], key=lambda row: row["followers"])
    reads = results["reads"]
    return [
        {
            "name": f"freshness p99 at {fresh['followers']:,} followers < 200 ms",
            "value": fresh["p99_ms"],
            "target": 200,
            "met": fresh["p99_ms"] < 200,
        },
        {
            "name": "(a) typical feed >= 1/2 the trivial endpoint's requests/s",
            "value": _ratio(reads["feed_typical"]["rps"], reads["ping"]["rps"]),
            "target": 0.5,
            "met": _ratio(reads["feed_typical"]["rps"], reads["ping"]["rps"]) >= 0.5,
        },
        *curve_targets(results),
    ]


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def report_write(results: dict, *, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results["per_operation"] = per_operation(results)
    results["targets"] = targets(results)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    _plot_fanout(results, out / "fanout.png")
    _plot_freshness(results, out / "freshness.png")
    _plot_reads(results, out / "reads.png")
    curves_plot(results, out)


def _plot_fanout(results: dict, path: Path) -> None:
    baseline = results["redis_benchmark"]["requests_per_s"]
    labels, values = ["redis-benchmark\nLPUSH -P 64"], [baseline]
    for row in results["fanout"]:
        labels += [f"{row['workers']} worker(s)\none post", f"{row['workers']} worker(s)\nburst"]
        values += [row["single_post_median"], row["burst"]["inserts_per_s"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(
        labels, [v / 1000 for v in values], color=["grey"] + ["tab:blue", "tab:cyan"] * len(results["fanout"])
    )
    ax.axhline(baseline / 3000, color="red", linestyle="--", label="target: 1/3 of the baseline")
    ax.set_ylabel("timeline inserts / s (thousands)")
    ax.set_title(f"Fan-out of one post to {results['fanout'][0]['followers']:,} followers")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_freshness(results: dict, path: Path) -> None:
    rows = results["freshness"]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([i - 0.2 for i in x], [r["p50_ms"] for r in rows], width=0.4, label="p50")
    ax.bar([i + 0.2 for i in x], [r["p99_ms"] for r in rows], width=0.4, label="p99")
    ax.axhline(200, color="red", linestyle="--", label="target p99 at 10,000: 200 ms")
    ax.set_xticks(list(x), [f"{r['followers']:,} followers" for r in rows])
    ax.set_ylabel("POST response -> in follower's feed (ms)")
    ax.set_title("Freshness, one worker")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


_READS = [
    ("ping", "trivial\nendpoint"),
    ("feed_typical", "feed (a)\ntypical"),
    ("pull_typical", "pure pull\ntypical"),
    ("feed_heavy", "feed (b)\n5,000 follows"),
    ("pull_heavy", "pure pull\n5,000 follows"),
    ("pull_heavy_per_author", "pure pull\nper-author plan"),
    ("feed_cold", "feed (c)\ncold"),
]


def _plot_reads(results: dict, path: Path) -> None:
    reads = results["reads"]
    labels = [label for _, label in _READS]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4))
    colors = ["grey", "tab:blue", "tab:orange", "tab:blue", "tab:orange", "tab:orange", "tab:blue"]
    left.bar(labels, [reads[key]["rps"] for key, _ in _READS], color=colors)
    left.set_ylabel("requests / s")
    left.set_title("Throughput (same server, same load generator)")
    right.bar(labels, [reads[key]["p99_ms"] for key, _ in _READS], color=colors)
    right.set_ylabel("p99 latency (ms)")
    right.set_yscale("log")
    right.set_title("p99 latency")
    for ax in (left, right):
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary_table(results: dict) -> str:
    """The table docs/performance.md shows: measurement, median/percentiles,
    baseline from the same run, ratio, target."""
    base = results["redis_benchmark"]["requests_per_s"]
    runs = f" (median of {len(results['redis_benchmark'].get('runs', [base]))})"
    reads = results["reads"]
    rows = [("Measurement", "Result", "Baseline (same run)", "Ratio")]
    for row in results["fanout"]:
        n = row["workers"]
        rows.append(
            (
                f"Fan-out to {row['followers']:,}, {n} worker(s), one post (median)",
                f"{row['single_post_median']:,.0f} inserts/s",
                f"redis-benchmark LPUSH -P 64: {base:,.0f}/s{runs}",
                f"{row['single_post_median'] / base:.2f}",
            )
        )
        burst = row["burst"]
        rows.append(
            (
                f"Fan-out to {row['followers']:,}, {n} worker(s), median of {len(burst['runs'])} bursts"
                f" of {burst['posts']} posts",
                f"{burst['inserts_per_s']:,.0f} inserts/s",
                f"redis-benchmark LPUSH -P 64: {base:,.0f}/s{runs}",
                f"{burst['inserts_per_s'] / base:.2f}",
            )
        )
    for row in results["fanout"]:
        inside = ", ".join(
            f"{name} {ms:.1f} ms" for name, ms in sorted(row.get("task_ms_median", {}).items())
        )
        rows.append(
            (
                f"  inside the tasks, {row['workers']} worker(s), per post",
                f"{row.get('task_ms_total_per_post', 0):.0f} ms of task time",
                f"medians: {inside}",
                "",
            )
        )
    for row in results["freshness"]:
        rows.append(
            (
                f"Freshness, {row['followers']:,} followers, 1 worker ({len(row['seconds'])} posts)",
                f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms",
                "",
                "",
            )
        )
    ping = reads["ping"]
    for key, label, baseline_key in (
        ("feed_typical", f"Feed (a) typical reader ({reads['readers']['typical_follows']} follows)", "ping"),
        ("feed_heavy", f"Feed (b) reader of {reads['readers']['heavy_follows']:,}", "pull_heavy"),
        ("feed_heavy", "  (b) again, pure pull held to its per-author plan", "pull_heavy_per_author"),
        ("feed_cold", "Feed (c) cold timeline (rebuilt)", "ping"),
        ("pull_typical", "Pure pull (one SQL query), typical reader", "ping"),
    ):
        r, b = reads[key], reads[baseline_key]
        if baseline_key == "ping":
            ratio = f"{_ratio(r['rps'], ping['rps']):.2f} of ping req/s"
            baseline = f"trivial DRF endpoint: {ping['rps']:.0f} req/s, p99 {ping['p99_ms']:.1f} ms"
        else:
            ratio = f"p99 {_ratio(b['p99_ms'], r['p99_ms']):.1f}x better"
            plan = " (per-author plan)" if baseline_key == "pull_heavy_per_author" else ""
            baseline = f"pure pull{plan}: {b['rps']:.0f} req/s, p99 {b['p99_ms']:.1f} ms"
        rows.append(
            (
                label,
                f"{r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms",
                baseline,
                ratio,
            )
        )
    cel = results["celebrity"]
    for mode in ("pull", "push"):
        rows.append(
            (
                f"Celebrity post, {cel['followers']:,} followers, {mode}",
                f"accepted in {cel[mode]['accept_ms']:.1f} ms, fan-out done in {cel[mode]['done_ms']:.0f} ms",
                "",
                f"{cel['push']['done_ms'] / cel['pull']['done_ms']:.0f}x the work in push"
                if mode == "push"
                else "",
            )
        )
    mem = results["memory"]
    rows.append(
        (
            f"Redis memory, {mem['timelines']:,} timelines of ~{mem['mean_length']:.0f} ids",
            f"{mem['bytes_per_entry']:.1f} B/entry ({mem['bytes_per_entry_large_ids']:.1f} with ids > 2**32)",
            "8-byte id",
            f"{mem['bytes_per_entry_large_ids'] / 8:.2f}x the floor",
        )
    )
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines += ["", curve_tables(results), ""]
    for target in results["targets"]:
        mark = "MET " if target["met"] else "MISS"
        lines.append(f"[{mark}] {target['name']}: {target['value']:.3g} (target {target['target']:.3g})")
    meta = results["meta"]
    lines.append(
        f"Machine: {meta['machine']}; Redis {meta['redis']} "
        f"({' '.join(f'{k} {v}' for k, v in meta.get('redis_settings', {}).items())}), "
        f"PostgreSQL {meta['postgresql']}; "
        f"load average {meta['load_start'][0]:.2f} at start, {meta['load_end'][0]:.2f} at end; "
        f"{meta['seconds']:.0f} s; scale {meta['scale']}; git {meta['git']}"
    )
    return "\n".join(lines)
