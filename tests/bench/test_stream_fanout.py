"""`make bench-stream` at a tiny scale, on a Redis server of its own: every variant ran and
every streaming follower got every post once (the bench checks it and exits non-zero
otherwise). Numbers are not checked."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.procs import ROOT


def test_bench_stream_runs_at_a_tiny_scale(tmp_path):
    out = tmp_path / "stream_fanout.json"
    args = ["--followers", "200", "--streams", "20", "--posts", "2", "--chunk", "100", "--repeats", "1"]
    run = subprocess.run(
        [sys.executable, "bench/stream_fanout.py", *args, "--configs", "single", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert set(row["median_inserts_per_s"]) == {"no-publish", "0 streams", "20 streams"}
    assert all(rate > 0 for rate in row["median_inserts_per_s"].values())
