"""bench.percentiles is the one percentile of loadgen, fanout and soak: it matches its
definition, statistics.quantiles(method="inclusive"), and statistics.median at p50."""

from __future__ import annotations

import math
import random
import statistics

from bench.percentiles import percentile


def test_percentile_is_statistics_quantiles_inclusive():
    rng = random.Random(3)
    for size in (2, 3, 10, 101, 1000):
        values = [rng.expovariate(1.0) for _ in range(size)]
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        for pct in range(1, 100):
            assert math.isclose(percentile(values, pct), cuts[pct - 1]), (size, pct)
        assert math.isclose(percentile(values, 50), statistics.median(values))
        assert percentile(values, 0) == min(values) and percentile(values, 100) == max(values)


def test_percentile_of_one_value_and_of_none():
    assert percentile([4.0], 99) == 4.0
    assert math.isnan(percentile([], 95))
