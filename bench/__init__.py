"""``make bench``: the benchmark suite (see docs/performance.md).

Runs the project's real code paths against the local PostgreSQL and Redis, each measurement
next to a baseline taken in the same run, and writes ``bench/results/latest.json`` plus plots.
"""
