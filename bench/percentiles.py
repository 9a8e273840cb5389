"""The one percentile definition of the benchmarks and the soak (loadgen, fanout, soak), so
their p50/p95/p99 figures compare: linear interpolation between the two closest ranks of the
sorted sample, rank = (n - 1) * pct / 100 (0-based). That is
``statistics.quantiles(values, n=100, method="inclusive")`` and numpy's default ("linear"),
and its p50 is ``statistics.median``. Plain stdlib: the load generator imports it without
Django."""

from __future__ import annotations


def percentile(values: list[float], pct: float) -> float:
    """The ``pct``-th percentile (0..100) of ``values``; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
