"""The one percentile definition of the benchmarks and the soak (loadgen, fanout, soak), so
their p50/p95/p99 figures compare: linear interpolation between the two closest ranks of the
sorted sample, rank = (n - 1) * pct / 100 (0-based). That is
``statistics.quantiles(values, n=100, method="inclusive")`` and numpy's default ("linear"),
and its p50 is ``statistics.median``. Plain stdlib: the load generator imports it without
Django. Also the one slope (least squares) the curves are summed up by."""

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


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y against x over (x, y) points; NaN for fewer than two x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n if n else 0.0
    my = sum(y for _, y in points) / n if n else 0.0
    var = sum((x - mx) ** 2 for x, _ in points)
    if not var:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in points) / var
