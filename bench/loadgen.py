"""The HTTP load generator: ``python -m bench.loadgen URL PATH --tokens FILE ...``.

Runs in its own processes (one per concurrent client, closed loop: each sends its next request
when the previous answer has arrived), apart from the bench driver and the server, and prints
one JSON object: requests, errors, requests/s and latency percentiles. The same generator
measures the feed and every baseline, so their ratios compare like with like. Plain stdlib
(no Django): it costs the server's two cores as little as a Python client can.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import sys
import time
import urllib.parse

from bench.percentiles import percentile


def _client(args: tuple) -> tuple[list[float], int, dict[int, int]]:
    host, port, path, tokens, cycle, deadline, max_requests, method = args
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    for index in range(max_requests):
        if time.time() >= deadline or (not cycle and index >= len(tokens)):
            break
        headers = {"Authorization": f"Token {tokens[index % len(tokens)]}"}
        started = time.perf_counter()
        try:
            # gunicorn's sync workers close every connection: one connection per request.
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
        except OSError:
            errors += 1
            continue
        elapsed = time.perf_counter() - started
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if 200 <= response.status < 300:  # a like answers 201
            latencies.append(elapsed)
        else:
            errors += 1
    return latencies, errors, statuses


def summarize(
    *, path: str, concurrency: int, latencies: list[float], errors: int, statuses: dict, seconds: float
) -> dict:
    """Requests/s and latency percentiles (ms) of one measurement, or of pooled ones."""
    return {
        "path": path,
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "seconds": seconds,
        "rps": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
    }


def run(
    *,
    url: str,
    path: str,
    tokens: list[str],
    duration: float,
    concurrency: int,
    unique: bool,
    max_requests: int,
    raw: bool = False,
    method: str = "GET",
) -> dict:
    """``unique``: each token is used once (cold timelines); otherwise clients cycle them.
    ``raw``: include every latency (seconds), so runs can be pooled."""
    parsed = urllib.parse.urlparse(url)
    if not tokens:
        raise ValueError("no tokens")
    if unique:
        shares = [tokens[i::concurrency] for i in range(concurrency)]
    else:
        shares = [tokens[i % len(tokens) :] + tokens[: i % len(tokens)] for i in range(concurrency)]
    per_client = max(1, max_requests // concurrency)
    started = time.time()
    deadline = started + duration
    jobs = [
        (parsed.hostname, parsed.port, path, share, not unique, deadline, per_client, method)
        for share in shares
    ]
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        outcomes = pool.map(_client, jobs)
    seconds = time.time() - started
    latencies = [x for lat, _, _ in outcomes for x in lat]
    statuses: dict[str, int] = {}
    for _, _, counts in outcomes:
        for status, n in counts.items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    errors = sum(e for _, e, _ in outcomes)
    summary = summarize(
        path=path,
        concurrency=concurrency,
        latencies=latencies,
        errors=errors,
        statuses=statuses,
        seconds=seconds,
    )
    if raw:
        summary["latencies"] = latencies
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("path")
    parser.add_argument("--tokens", required=True, help="file with one token per line")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--unique", action="store_true", help="use each token once")
    parser.add_argument("--max-requests", type=int, default=10**9)
    parser.add_argument("--raw", action="store_true", help="also print every latency")
    parser.add_argument("--method", default="GET", help="GET, or POST for writes without a body (likes)")
    args = parser.parse_args(argv)
    with open(args.tokens) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    result = run(
        url=args.url,
        path=args.path,
        tokens=tokens,
        duration=args.duration,
        concurrency=args.concurrency,
        unique=args.unique,
        max_requests=args.max_requests,
        raw=args.raw,
        method=args.method,
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
