"""Curves 1-3, over HTTP on the same server: the feed's read cost against the number of
followees (typical and quiet readers, next to pure pull with PostgreSQL's own plan and held to
the per-author plan), cold reads (the rebuild) against the same, and the hybrid's read penalty
against the number of pull-mode followees (docs/performance.md#curves)."""

from __future__ import annotations

import time

from bench import http
from bench.percentiles import percentile, slope
from bench.reads import load, pooled
from bench.workload import Workload, tokens_for
from timelines.keys import timeline_key
from timelines.store import get_store

PAGE = "?limit=20"
# Pure pull's two baselines (bench/views.py): the one SQL query as PostgreSQL plans it, and the
# same feed held to a short index scan per followee.
ENDPOINTS = {
    "feed": f"/api/feed/{PAGE}",
    "pull": f"/api/bench/pull-feed/{PAGE}",
    "pull_per_author": f"/api/bench/pull-feed/{PAGE}&plan=per-author",
}
ROUNDS = 2  # each series is measured in every round, in turn, and its rounds pooled


def _steady(series: dict[str, tuple[str, str]], *, base_url: str, seconds: float) -> dict[str, dict]:
    """Each (path, token) series in ROUNDS interleaved rounds, pooled: a slow spell of the shared
    machine then hits every series alike."""
    runs: dict[str, list[dict]] = {name: [] for name in series}
    for _ in range(ROUNDS):
        for name, (path, token) in series.items():
            runs[name].append(load(base_url, path, [token], seconds=seconds / ROUNDS, raw=True))
    return {name: pooled(name_runs) for name, name_runs in runs.items()}


def _warm(base_url: str, tokens: list[str]) -> None:
    """Build each reader's timeline and the outboxes they merge, as a returning reader has."""
    for token in tokens:
        status, body = http.Client(base_url, token).get(f"/api/feed/{PAGE}")
        if status != 200:
            raise RuntimeError(f"GET /api/feed/ answered {status}: {body}")


def _kind_and_followees(name: str) -> tuple[str, int]:
    kind, n = name.split()
    return kind, int(n)


def feed_vs_followees(workload: Workload, *, base_url: str, seconds: float) -> dict:
    """Curve 1: steady (cached) feed reads and both pure-pull plans, per curve reader."""
    readers = workload.curve_readers
    tokens = dict(zip(readers, tokens_for(list(readers.values())), strict=True))
    _warm(base_url, list(tokens.values()))
    series = {
        f"{name}/{endpoint}": (path, tokens[name]) for name in readers for endpoint, path in ENDPOINTS.items()
    }
    measured = _steady(series, base_url=base_url, seconds=seconds)
    points = []
    for name in readers:
        kind, n = _kind_and_followees(name)
        point = {"reader": kind, "followees": n, "share_recent": workload.shares[name]}
        point.update({endpoint: measured[f"{name}/{endpoint}"] for endpoint in ENDPOINTS})
        points.append(point)
    return {"points": points, "seconds_per_series": seconds, "rounds": ROUNDS}


def cold_vs_followees(workload: Workload, *, base_url: str, repeats: int) -> dict:
    """Curve 2: the same readers with no cached timeline: their timeline key is deleted before
    each request, so each first page is a rebuild from PostgreSQL. One request at a time."""
    readers = workload.curve_readers
    tokens = tokens_for(list(readers.values()))
    client = get_store().client
    points = []
    for (name, reader), token in zip(readers.items(), tokens, strict=True):
        reader_client = http.Client(base_url, token)
        key = timeline_key(reader.id)
        latencies = []
        for _ in range(repeats):
            client.delete(key)
            started = time.perf_counter()
            status, body = reader_client.get(f"/api/feed/{PAGE}")
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"cold GET /api/feed/ answered {status}: {body}")
        if not client.exists(key):
            raise RuntimeError(f"the cold read of {name} left no timeline: nothing was rebuilt")
        kind, n = _kind_and_followees(name)
        points.append(
            {
                "reader": kind,
                "followees": n,
                "share_recent": workload.shares[name],
                "requests": len(latencies),
                "p50_ms": percentile(latencies, 50) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "max_ms": max(latencies) * 1000,
            }
        )
    return {"points": points, "repeats": repeats}


def pull_penalty(workload: Workload, *, base_url: str, seconds: float) -> dict:
    """Curve 3: steady feed reads of readers who follow the same push-mode accounts and 0, 10,
    ... pull-mode ones (each page merges their outboxes). The slope of p50 against the number
    of pull-mode followees is the per-outbox merge cost the capacity model uses."""
    readers = workload.pull_readers
    tokens = dict(zip(readers, tokens_for(list(readers.values())), strict=True))
    _warm(base_url, list(tokens.values()))
    measured = _steady(
        {str(n): (ENDPOINTS["feed"], token) for n, token in tokens.items()},
        base_url=base_url,
        seconds=seconds,
    )
    points = [
        {"pull_followees": n, "followees": readers[n].following_count, "feed": measured[str(n)]}
        for n in readers
    ]
    return {
        "points": points,
        "slope_ms_per_outbox": slope([(p["pull_followees"], p["feed"]["p50_ms"]) for p in points]),
    }
