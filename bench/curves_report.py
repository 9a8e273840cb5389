"""The five cost curves in the results: their targets (met or missed), the unit costs the
capacity model takes from them (slopes, not single points) and markdown tables. Their plots:
bench/curves_plots.py."""

from __future__ import annotations

import math
import statistics

from bench.percentiles import slope

CORES = 2  # the measured machine's (meta.machine); core-ms per request = CORES * 1000 / req/s
PULL = ("pull", "pull_per_author")  # pure pull's two plans


def _better_pull(point: dict) -> dict:
    return min((point[k] for k in PULL), key=lambda s: s["p99_ms"])


def _at(points: list[dict], **where) -> dict | None:
    return next((p for p in points if all(p[k] == v for k, v in where.items())), None)


def curve_targets(results: dict) -> list[dict]:
    """One line per target of issue 14, with the numbers it was judged on."""
    feed = results["feed_curve"]["points"]
    follows = sorted({p["followees"] for p in feed})
    low, mid, top = follows[0], follows[min(2, len(follows) - 1)], follows[-1]
    out = []
    for kind in ("typical", "quiet"):
        base = _at(feed, reader=kind, followees=low)["feed"]["p99_ms"]
        for n in (mid, top):
            value = _at(feed, reader=kind, followees=n)["feed"]["p99_ms"] / base
            out.append(
                _target(f"curve 1, {kind}: feed p99 at {n:,} follows <= 1.5x its p99 at {low:,}", value, 1.5)
            )
    for point in (p for p in feed if p["followees"] == mid and p["share_recent"] <= 0.005):
        pull = _better_pull(point)
        out.append(
            _target(
                f"curve 1, {point['reader']} {mid:,} (followees hold {point['share_recent']:.2%} of"
                " recent posts): feed p99 >= 10x better than the better pure-pull plan",
                pull["p99_ms"] / point["feed"]["p99_ms"],
                10,
                above=True,
            )
        )
    worst = min(feed, key=lambda p: _better_pull(p)["p99_ms"] / p["feed"]["p99_ms"])
    out.append(
        _target(
            f"curve 1: feed never worse than pure pull (p99 ratio; worst: {worst['reader']}"
            f" {worst['followees']:,})",
            _better_pull(worst)["p99_ms"] / worst["feed"]["p99_ms"],
            1,
            above=True,
        )
    )
    cold = max(results["cold_curve"]["points"], key=lambda p: p["p99_ms"])
    out.append(
        _target(
            f"curve 2: cold first page p99 <= 300 ms for every reader (worst: {cold['reader']}"
            f" {cold['followees']:,})",
            cold["p99_ms"],
            300,
        )
    )
    pull = results["pull_curve"]["points"]
    zero = _at(pull, pull_followees=0)["feed"]["p99_ms"]
    hundred = _at(pull, pull_followees=sorted(p["pull_followees"] for p in pull)[min(2, len(pull) - 1)])
    out.append(
        _target(
            f"curve 3: feed p99 with {hundred['pull_followees']} pull-mode followees <= 2x its p99 with 0",
            hundred["feed"]["p99_ms"] / zero,
            2,
        )
    )
    fan = results["fanout"]
    best = max(fan, key=lambda row: row["burst"]["inserts_per_s"])
    base = results["redis_benchmark"]["requests_per_s"]
    runs = len(best["burst"]["runs"])
    out.append(
        _target(
            f"curve 4: sustained fan-out to {best['followers']:,} >= 1/3 of redis-benchmark LPUSH"
            f" ({best['workers']} worker(s), median of {runs} runs)",
            best["burst"]["inserts_per_s"] / base,
            1 / 3,
            above=True,
        )
    )
    mem = max(results["memory_curve"]["points"], key=lambda p: p["bytes_per_entry_large_ids"])
    out.append(
        _target(
            f"curve 5: Redis bytes per timeline entry <= 12 at every size (ids past 2**32;"
            f" worst at {mem['users']:,} users)",
            mem["bytes_per_entry_large_ids"],
            12,
        )
    )
    return out


def _target(name: str, value: float, target: float, *, above: bool = False) -> dict:
    met = value >= target if above else value <= target
    return {"name": name, "value": value, "target": target, "met": bool(met) and not math.isnan(value)}


def curve_unit_costs(results: dict) -> dict:
    """What ``feed_capacity`` scales, each with the curve it came from (``sources``)."""
    one_worker = [row for row in results["fanout_curve"]["points"] if row["workers"] == 1]
    per_follower = slope([(row["followers"], row["seconds_median"]) for row in one_worker])
    # The worker's own time per post (its tasks' run time), at no followers: a post's fixed cost.
    busy = [(row["followers"], row["task_ms_total_per_post"]) for row in one_worker]
    fixed_ms = statistics.fmean(y for _, y in busy) - slope(busy) * statistics.fmean(x for x, _ in busy)
    if per_follower > 0:
        rate = 1 / per_follower
        rate_source = "curve 4: 1 / slope of time to last timeline vs followers, 1 worker"
    else:  # a flat curve (tiny audiences): its biggest point instead
        biggest = max(one_worker, key=lambda row: row["followers"])
        rate = biggest["single_post_median"]
        rate_source = f"curve 4: one post to {biggest['followers']:,} followers, 1 worker (flat curve)"
    pull = results["pull_curve"]["points"]
    core_ms = [(p["pull_followees"], CORES * 1000 / p["feed"]["rps"]) for p in pull if p["feed"]["rps"]]
    return {
        "fanout_inserts_per_s_per_worker": rate,
        "fanout_ms_per_post": fixed_ms,
        "merge_core_ms_per_outbox": slope(core_ms),
        "feed_read_core_ms_no_pull": core_ms[0][1] if core_ms else math.nan,  # at 0
        "rebuild_ms_by_followees": [
            {"reader": p["reader"], "followees": p["followees"], "p50_ms": p["p50_ms"], "p99_ms": p["p99_ms"]}
            for p in results["cold_curve"]["points"]
        ],
        "sources": {
            "fanout_inserts_per_s_per_worker": rate_source,
            "fanout_ms_per_post": "curve 4: intercept of worker task time per post vs followers,"
            " 1 worker (fixed cost per post)",
            "merge_core_ms_per_outbox": "curve 3: slope of core-ms per page (2 cores / req/s) vs"
            " pull-mode followees",
            "feed_read_core_ms_no_pull": "curve 3: core-ms per page with no pull-mode followee",
            "rebuild_ms_by_followees": "curve 2: cold first page (one request at a time) per reader",
        },
    }


def curve_tables(results: dict) -> str:
    """Markdown tables of the five curves (docs/performance.md shows them)."""
    out = ["Curve 1: feed read cost vs followees (p50 / p99 ms, req/s; 4 clients)", ""]
    out += [
        _row(
            "reader",
            "followees",
            "share of recent posts",
            "feed",
            "pure pull, PostgreSQL's plan",
            "pure pull, per-author plan",
        ),
        _row(*["---"] * 6),
    ]
    for p in results["feed_curve"]["points"]:
        cells = [_cell(p[k]) for k in ("feed", *PULL)]
        out.append(
            f"| {p['reader']} | {p['followees']:,} | {p['share_recent']:.3%} | " + " | ".join(cells) + " |"
        )
    out += ["", "Curve 2: cold first page (timeline rebuilt each request; one request at a time)", ""]
    out += ["| reader | followees | requests | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    for p in results["cold_curve"]["points"]:
        ms = (f"{p[k]:.1f}" for k in ("p50_ms", "p99_ms", "max_ms"))
        out.append(_row(p["reader"], f"{p['followees']:,}", p["requests"], *ms))
    out += ["", "Curve 3: hybrid read penalty vs pull-mode followees", ""]
    out += ["| pull-mode followees | followees | feed | p99 / p99 at 0 |", "|---|---|---|---|"]
    pull = results["pull_curve"]["points"]
    zero = pull[0]["feed"]["p99_ms"]
    for p in pull:
        ratio = p["feed"]["p99_ms"] / zero if zero else math.nan
        out.append(f"| {p['pull_followees']} | {p['followees']} | {_cell(p['feed'])} | {ratio:.2f} |")
    base = results["redis_benchmark"]["requests_per_s"]
    out += ["", f"Curve 4: fan-out of one post vs followers (redis-benchmark LPUSH -P 64: {base:,.0f}/s)", ""]
    out += [
        _row(
            "followers",
            "workers",
            "time to last timeline, median ms",
            "inserts/s (one post)",
            "/ baseline",
            "sustained inserts/s (median of runs)",
        ),
        _row(*["---"] * 6),
    ]
    for row in sorted(results["fanout_curve"]["points"], key=lambda r: (r["followers"], r["workers"])):
        burst = row.get("burst")
        sustained = (
            f"{burst['inserts_per_s']:,.0f} ({burst['inserts_per_s'] / base:.2f}x, {len(burst['runs'])} runs)"
            if burst
            else ""
        )
        out.append(
            f"| {row['followers']:,} | {row['workers']} | {row['seconds_median'] * 1000:.1f} | "
            f"{row['single_post_median']:,.0f} | {row['single_post_median'] / base:.2f} | {sustained} |"
        )
    out += ["", "Curve 5: Redis memory vs users with a timeline", ""]
    out += [
        "| users | entries | mean length | bytes/entry | bytes/entry, ids past 2**32 |",
        "|---|---|---|---|---|",
    ]
    for p in results["memory_curve"]["points"]:
        out.append(
            f"| {p['users']:,} | {p['entries']:,} | {p['mean_length']:.0f} | {p['bytes_per_entry']:.2f} | "
            f"{p['bytes_per_entry_large_ids']:.2f} |"
        )
    return "\n".join(out)


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _cell(summary: dict) -> str:
    return f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f} ms, {summary['rps']:.0f}/s"
