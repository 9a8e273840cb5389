"""Read-side measurements over HTTP with the load generator (bench.loadgen, separate
processes): the feed for three kinds of reader, and the baselines on the same server."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter

from bench import http
from bench.loadgen import summarize
from bench.workload import Workload, tokens_for
from tests.support.procs import ROOT
from timelines.keys import timeline_key
from timelines.store import get_store

CONCURRENCY = 4  # closed-loop clients; gunicorn runs 2 sync workers on 2 cores
# Each steady endpoint is measured in every round, in turn, and its rounds pooled: a slow spell
# of the shared machine then hits the feed and its baselines alike, rather than whichever
# happened to run during it.
ROUNDS = 3


def load(
    base_url: str,
    path: str,
    tokens: list[str],
    *,
    seconds: float,
    unique: bool = False,
    raw: bool = False,
    method: str = "GET",
) -> dict:
    """Run the load generator in its own processes and return its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as handle:
        handle.write("\n".join(tokens))
        handle.flush()
        command = [sys.executable, "-m", "bench.loadgen", base_url, path, "--tokens", handle.name,
                   "--duration", str(seconds), "--concurrency", str(CONCURRENCY)]  # fmt: skip
        if unique:
            command.append("--unique")
        if raw:
            command.append("--raw")
        if method != "GET":
            command += ["--method", method]
        output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(output.stdout)


def pooled(runs: list[dict]) -> dict:
    """One summary of several runs of one endpoint (each with its raw latencies)."""
    summary = summarize(
        path=runs[0]["path"],
        concurrency=runs[0]["concurrency"],
        latencies=[x for run in runs for x in run["latencies"]],
        errors=sum(run["errors"] for run in runs),
        statuses=dict(sum((Counter(run["statuses"]) for run in runs), Counter())),
        seconds=sum(run["seconds"] for run in runs),
    )
    summary["rounds_rps"] = [run["rps"] for run in runs]
    return summary


def interleaved(base_url: str, steady: dict[str, tuple[str, str]], *, seconds: float) -> dict[str, dict]:
    """name -> pooled summary (without raw latencies) of each ``(path, token)``, measured in
    ROUNDS interleaved rounds of ``seconds / ROUNDS`` each."""
    runs: dict[str, list[dict]] = {name: [] for name in steady}
    for _ in range(ROUNDS):
        for name, (path, token) in steady.items():
            runs[name].append(load(base_url, path, [token], seconds=seconds / ROUNDS, raw=True))
    results = {name: pooled(name_runs) for name, name_runs in runs.items()}
    for summary in results.values():
        summary.pop("latencies", None)
    return results


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
    steady = {
        "ping": ("/api/bench/ping/", typical),
        "feed_typical": (f"/api/feed/{page}", typical),
        "pull_typical": (f"/api/bench/pull-feed/{page}", typical),
        "feed_heavy": (f"/api/feed/{page}", heavy),
        "pull_heavy": (f"/api/bench/pull-feed/{page}", heavy),
        # Pure pull held to the per-author plan: what PostgreSQL must do for this reader once
        # their followees' posts are sparse among all posts (a large network), not the target.
        "pull_heavy_per_author": (f"/api/bench/pull-feed/{page}&plan=per-author", heavy),
    }
    runs: dict[str, list[dict]] = {name: [] for name in steady}
    for _ in range(ROUNDS):
        for name, (path, token) in steady.items():
            runs[name].append(load(base_url, path, [token], seconds=seconds / ROUNDS, raw=True))
    out = {name: pooled(name_runs) for name, name_runs in runs.items()}
    out["feed_cold"] = load(base_url, f"/api/feed/{page}", cold, seconds=seconds, unique=True)
    out["readers"] = {
        "typical_follows": workload.typical_reader.following_count,
        "heavy_follows": workload.heavy_reader.following_count,
        "cold_readers": len(cold),
    }
    return out
