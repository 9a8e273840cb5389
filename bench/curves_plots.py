"""The five cost curves as PNG plots beside latest.json (docs/performance.md#curves)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

PLOTS = (
    "curve1_feed_vs_followees.png",
    "curve2_cold_vs_followees.png",
    "curve3_pull_penalty.png",
    "curve4_fanout_vs_followers.png",
    "curve5_memory_vs_users.png",
)
_SERIES = (("feed", "feed", "tab:blue"), ("pull", "pure pull, PostgreSQL's plan", "tab:orange"),
           ("pull_per_author", "pure pull, per-author plan", "tab:red"))  # fmt: skip


def curves_plot(results: dict, out: Path) -> None:
    for name, draw in zip(PLOTS, (_feed, _cold, _pull, _fanout, _memory), strict=True):
        fig = draw(results)
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)


def _feed(results: dict):
    points = results["feed_curve"]["points"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for ax, kind in zip(axes[:2], ("typical", "quiet"), strict=True):
        mine = sorted((p for p in points if p["reader"] == kind), key=lambda p: p["followees"])
        x = [p["followees"] for p in mine]
        for key, label, color in _SERIES:
            ax.plot(x, [p[key]["p99_ms"] for p in mine], "o-", color=color, label=f"{label} p99")
            ax.plot(x, [p[key]["p50_ms"] for p in mine], "o:", color=color, alpha=0.6, label=f"{label} p50")
        ax.set(xscale="log", yscale="log", xlabel="followees", ylabel="latency (ms)", title=f"{kind} readers")
        ax.legend(fontsize=7)
    ax = axes[2]
    for kind, style in (("typical", "-"), ("quiet", "--")):
        mine = sorted((p for p in points if p["reader"] == kind), key=lambda p: p["followees"])
        for key, label, color in _SERIES:
            ax.plot([p["followees"] for p in mine], [p[key]["rps"] for p in mine], "o" + style, color=color,
                    label=f"{label}, {kind}")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="followees", ylabel="requests / s", title="throughput")
    ax.legend(fontsize=7)
    fig.suptitle("Curve 1: GET /api/feed/ vs followees, against pure pull (same server, same run)")
    return fig


def _cold(results: dict):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, color in (("typical", "tab:blue"), ("quiet", "tab:purple")):
        mine = sorted(
            (p for p in results["cold_curve"]["points"] if p["reader"] == kind), key=lambda p: p["followees"]
        )
        x = [p["followees"] for p in mine]
        ax.plot(x, [p["p99_ms"] for p in mine], "o-", color=color, label=f"{kind} p99")
        ax.plot(x, [p["p50_ms"] for p in mine], "o:", color=color, alpha=0.6, label=f"{kind} p50")
    ax.axhline(300, color="red", linestyle="--", label="target p99: 300 ms")
    ax.set(xscale="log", yscale="log", xlabel="followees", ylabel="first page (ms)",
           title="Curve 2: cold read (timeline rebuilt) vs followees")  # fmt: skip
    ax.legend(fontsize=8)
    return fig


def _pull(results: dict):
    points = results["pull_curve"]["points"]
    x = [p["pull_followees"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(x, [p["feed"]["p99_ms"] for p in points], "o-", label="feed p99")
    ax.plot(x, [p["feed"]["p50_ms"] for p in points], "o:", label="feed p50")
    ax.axhline(
        2 * points[0]["feed"]["p99_ms"], color="red", linestyle="--", label="target: 2x p99 at 0 (at 100)"
    )
    ax.set_xscale("symlog", linthresh=10)
    ax.set(xlim=(0, max(x) * 1.2), ylim=(0, None), xlabel="pull-mode followees (outboxes merged per page)",
           ylabel="latency (ms)", title="Curve 3: the hybrid's read penalty")  # fmt: skip
    ax.legend(fontsize=8)
    return fig


def _fanout(results: dict):
    points = results["fanout_curve"]["points"]
    base = results["redis_benchmark"]["requests_per_s"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    for workers, color in ((1, "tab:blue"), (2, "tab:green")):
        mine = sorted((r for r in points if r["workers"] == workers), key=lambda r: r["followers"])
        x = [r["followers"] for r in mine]
        left.plot(
            x, [r["seconds_median"] * 1000 for r in mine], "o-", color=color, label=f"{workers} worker(s)"
        )
        right.plot(
            x,
            [r["single_post_median"] for r in mine],
            "o-",
            color=color,
            label=f"{workers} worker(s), one post",
        )
        for r in mine:
            if "burst" in r:
                label = f"{workers} worker(s), sustained (median of {len(r['burst']['runs'])})"
                right.plot([r["followers"]], [r["burst"]["inserts_per_s"]], "s", color=color, label=label)
    right.axhline(base, color="grey", label="redis-benchmark LPUSH -P 64")
    right.axhline(base / 3, color="red", linestyle="--", label="target: 1/3 of it")
    left.set(xscale="log", yscale="log", xlabel="followers", ylabel="time to last timeline (ms, median)")
    right.set(xscale="log", yscale="log", xlabel="followers", ylabel="timeline inserts / s")
    left.legend(fontsize=8)
    right.legend(fontsize=7)
    fig.suptitle("Curve 4: fan-out of one post (forced push) vs followers")
    return fig


def _memory(results: dict):
    points = results["memory_curve"]["points"]
    x = [p["users"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(x, [p["bytes_per_entry"] for p in points], "o-", label="this run's ids")
    ax.plot(x, [p["bytes_per_entry_large_ids"] for p in points], "o-", label="ids past 2**32")
    ax.axhline(12, color="red", linestyle="--", label="target: 12 bytes")
    ax.set(xscale="log", ylim=(0, 14), xlabel="users with a timeline", ylabel="Redis bytes per entry",
           title="Curve 5: Redis memory per timeline entry vs users")  # fmt: skip
    ax.legend(fontsize=8)
    return fig
