"""Read-side measurements over HTTP with the load generator (bench.loadgen, separate
processes): the feed for three kinds of reader, and the baselines on the same server."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from bench import http
from bench.procs import ROOT
from bench.workload import Workload, tokens_for
from timelines.store import get_store, timeline_key

CONCURRENCY = 4  # closed-loop clients; gunicorn runs 2 sync workers on 2 cores


def load(base_url: str, path: str, tokens: list[str], *, seconds: float, unique: bool = False) -> dict:
    """Run the load generator in its own processes and return its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as handle:
        handle.write("\n".join(tokens))
        handle.flush()
        command = [sys.executable, "-m", "bench.loadgen", base_url, path, "--tokens", handle.name,
                   "--duration", str(seconds), "--concurrency", str(CONCURRENCY)]  # fmt: skip
        if unique:
            command.append("--unique")
        output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(output.stdout)


def reads_measure(workload: Workload, *, base_url: str, seconds: float) -> dict:
    typical, heavy = tokens_for([workload.typical_reader, workload.heavy_reader])
    cold = tokens_for(workload.cold_readers)
    for token in (typical, heavy):  # warm: build their timelines and outboxes once
        status, _ = http.Client(base_url, token).get("/api/feed/?limit=20")
        assert status == 200, status
    client = get_store().client
    if any(client.exists(timeline_key(reader.id)) for reader in workload.cold_readers):
        raise RuntimeError("a cold reader already has a timeline")
    page = "?limit=20"
    out = {
        "ping": load(base_url, "/api/bench/ping/", [typical], seconds=seconds),
        "feed_typical": load(base_url, f"/api/feed/{page}", [typical], seconds=seconds),
        "pull_typical": load(base_url, f"/api/bench/pull-feed/{page}", [typical], seconds=seconds),
        "feed_heavy": load(base_url, f"/api/feed/{page}", [heavy], seconds=seconds),
        "pull_heavy": load(base_url, f"/api/bench/pull-feed/{page}", [heavy], seconds=seconds),
        "feed_cold": load(base_url, f"/api/feed/{page}", cold, seconds=seconds, unique=True),
    }
    out["readers"] = {
        "typical_follows": workload.typical_reader.following_count,
        "heavy_follows": workload.heavy_reader.following_count,
        "cold_readers": len(cold),
    }
    return out
