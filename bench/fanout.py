"""Write-side measurements: the fan-out curve (curve 4: one post to 100 ... 100,000 followers,
1 and 2 worker processes) against pipelined LPUSH from redis-benchmark, freshness over HTTP,
and the celebrity's write cost."""

from __future__ import annotations

import queue
import re
import shutil
import statistics
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

from bench import http
from bench.percentiles import percentile
from bench.workload import readers_mark_active
from graph.models import Account, FanoutMode
from graph.synthetic import follows_add
from posts.models import Delivery, Post
from posts.services import post_create
from tests.support.celery import Worker, celery_worker
from timelines.keys import timeline_key
from timelines.store import COMPLETE, get_store

TASK_TIMEOUT = 120


@dataclass(frozen=True)
class Probe:
    """An author with exactly ``followers`` followers, each with a built timeline."""

    author: Account
    follower_ids: list[int]  # in fan-out order: the last one is reached last


def probe_author(*, username: str, follower_ids: list[int], filler_posts: int, warm_length: int) -> Probe:
    """Create an author followed by ``follower_ids`` and give every follower a built timeline
    of ``warm_length`` real ids (the author's ``filler_posts`` older posts, repeated), as active
    readers have: fan-out writes only into built timelines, and list length sets its cost.
    The timelines are server-side COPYs of one template list (cheap at 100,000 followers)."""
    readers_mark_active(list(follower_ids))
    author = Account.objects.create(username=username, password="!")
    follows_add({f: [author.id] for f in follower_ids})
    author.refresh_from_db()
    posts = Post.objects.bulk_create(
        Post(author=author, body=f"older post {i}", delivery=Delivery.PUSH) for i in range(filler_posts)
    )
    ids = sorted((p.id for p in posts), reverse=True)[:warm_length]
    client = get_store().client
    template = f"bench:template:{{{author.id}}}"
    client.rpush(template, *ids, COMPLETE)
    for start in range(0, len(follower_ids), 5000):
        with client.pipeline(transaction=False) as pipe:
            for follower_id in follower_ids[start : start + 5000]:
                pipe.copy(template, timeline_key(follower_id), replace=True)
            pipe.execute()
    client.delete(template)
    return Probe(author=author, follower_ids=list(follower_ids))


def wait_fanout(
    worker: Worker, *, posts: int = 1, timeout: float = TASK_TIMEOUT, runtimes: dict | None = None
) -> tuple[float, int]:
    """Block until the fan-out of ``posts`` posts has finished in ``worker``: their fanout_post
    tasks and every chunk those enqueued. Returns (when the last task finished, timelines
    written by chunk tasks; fanout_post writes the first batch itself)."""
    routed, chunks, seen, inserts, last = 0, 0, 0, 0, 0.0
    deadline = time.monotonic() + timeout
    while routed < posts or seen < chunks:
        done = worker.next_done(max(0.1, deadline - time.monotonic()))
        last = max(last, done.finished)
        if runtimes is not None:
            runtimes.setdefault(done.name, []).append(done.runtime)
        if done.name == "fanout_post":
            routed += 1
            chunks += done.result
        elif done.name == "fanout_chunk":
            seen += 1
            inserts += done.result
    return last, inserts


def fanout_curve(
    probes: list[Probe],
    *,
    env: dict[str, str],
    concurrency: int,
    posts: int,
    sustained: Probe,
    runs: int,
    burst_posts: int,
) -> list[dict]:
    """Curve 4 with ``concurrency`` worker processes: for each probe author, ``posts`` posts one
    at a time, each timed from just before its commit (the commit enqueues fanout_post) to the
    end of its last chunk task, as the worker logs it (the time to the last timeline); and for
    ``sustained``, ``runs`` bursts of ``burst_posts`` posts back to back (the workers' tasks
    overlap: sustained throughput), whose median counts."""
    out = []
    with celery_worker(env, concurrency=concurrency) as worker:
        _create(sustained, "warm-up")  # imports, connections, script cache
        wait_fanout(worker)
        for probe in probes:
            Account.objects.filter(pk=probe.author.pk).update(fanout_override=FanoutMode.PUSH)
            seconds, runtimes = [], {}
            for i in range(posts):
                started = time.time()
                _create(probe, f"fan-out {concurrency}/{i}")
                finished, _ = wait_fanout(worker, runtimes=runtimes)
                seconds.append(finished - started)
            rates = [len(probe.follower_ids) / s for s in seconds]
            row = {
                "workers": concurrency,
                "followers": len(probe.follower_ids),
                "seconds_to_last_timeline": seconds,
                "seconds_median": statistics.median(seconds),
                "single_post_inserts_per_s": rates,
                "single_post_median": statistics.median(rates),
                # Where a single post's time goes: inside the tasks (the rest is queueing).
                "task_ms_median": {name: statistics.median(v) * 1000 for name, v in runtimes.items()},
                "task_ms_total_per_post": sum(sum(v) for v in runtimes.values()) * 1000 / max(1, posts),
            }
            if probe is sustained:
                bursts = [_burst(probe, worker, f"{concurrency}/{r}", burst_posts) for r in range(runs)]
                rates = [b["inserts_per_s"] for b in bursts]
                row["bursts"] = bursts
                row["burst"] = {  # the median burst
                    "posts": burst_posts,
                    "inserts": bursts[0]["inserts"],
                    "seconds": statistics.median(b["seconds"] for b in bursts),
                    "inserts_per_s": statistics.median(rates),
                    "runs": rates,
                }
            out.append(row)
    for probe in probes:
        _check_delivered(probe)
    return out


def _burst(probe: Probe, worker: Worker, label: str, posts: int) -> dict:
    started = time.time()
    for i in range(posts):
        _create(probe, f"burst {label}/{i}")
    last, _ = wait_fanout(worker, posts=posts)
    total = posts * len(probe.follower_ids)  # checked at the end: every timeline got each once
    return {
        "posts": posts,
        "inserts": total,
        "seconds": last - started,
        "inserts_per_s": total / (last - started),
    }


def freshness(probe: Probe, *, base_url: str, worker: Worker, posts: int) -> dict:
    """From the ``POST /api/posts/`` response to the post being in the feed of the last
    follower (the one fan-out reaches last). The feed shows a pushed post as soon as it is in
    the follower's timeline, so the timeline is polled (LPOS, about every millisecond: an HTTP
    poll would add its own latency to every sample); the feed itself is then read over HTTP
    to confirm the post is on its first page."""
    author = http.Client(base_url, http.token_for(probe.author))
    follower = http.Client(base_url, http.token_for(Account.objects.get(pk=probe.follower_ids[-1])))
    key = timeline_key(probe.follower_ids[-1])
    client = get_store().client
    follower.get("/api/feed/?limit=1")
    lags = []
    for i in range(posts):
        status, body = author.post_json("/api/posts/", {"body": f"freshness {i}"})
        answered = time.perf_counter()
        if status != 201:
            raise RuntimeError(f"POST /api/posts/ answered {status}: {body}")
        post_id = body["id"]
        while client.lpos(key, post_id) is None:
            if time.perf_counter() - answered > 30:
                raise RuntimeError(f"post {post_id} not in the timeline after 30 s")
            time.sleep(0.001)
        lags.append(time.perf_counter() - answered)
        status, page = follower.get("/api/feed/?limit=1")
        if status != 200 or page["results"][0]["id"] != post_id:
            raise RuntimeError(f"post {post_id} is in the timeline but not first in the feed: {page}")
        wait_fanout(worker)
    return {
        "followers": len(probe.follower_ids),
        "seconds": lags,
        "p50_ms": percentile(lags, 50) * 1000,
        "p99_ms": percentile(lags, 99) * 1000,
    }


def celebrity_write_cost(probe: Probe, *, env: dict[str, str], posts: int) -> dict:
    """The same author in pull mode and forced to push: time to accept the post (the create
    call, commit included) and until its fan-out work is done, with one worker."""
    out = {}
    with celery_worker(env, concurrency=1) as worker:
        for mode in (FanoutMode.PULL, FanoutMode.PUSH):
            Account.objects.filter(pk=probe.author.pk).update(fanout_override=mode)
            probe.author.refresh_from_db()
            accept, total = [], []
            for i in range(posts + 1):
                started = time.perf_counter()
                wall = time.time()
                _create(probe, f"celebrity {mode} {i}")
                accepted = time.perf_counter() - started
                finished, _ = wait_fanout(worker)
                if i:  # the first is a warm-up
                    accept.append(accepted)
                    total.append(finished - wall)
            out[mode] = {
                "accept_ms": statistics.median(accept) * 1000,
                "done_ms": statistics.median(total) * 1000,
            }
    Account.objects.filter(pk=probe.author.pk).update(fanout_override=FanoutMode.AUTO)
    out["followers"] = len(probe.follower_ids)
    return out


def wait_idle(worker: Worker, quiet: float = 0.5) -> None:
    """Let leftovers (posts made while setting up) finish before timing anything."""
    while True:
        try:
            worker.next_done(quiet)
        except queue.Empty:
            return


def redis_benchmark_lpush(redis_url: str, *, requests: int = 1_000_000) -> dict:
    """The baseline: redis-benchmark's pipelined LPUSH (-P 64) on the same Redis and db."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise RuntimeError("redis-benchmark not found (Debian: apt-get install redis-tools)")
    url = urllib.parse.urlparse(redis_url)
    db = int((url.path or "/0").lstrip("/") or 0)
    command = [exe, "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "--dbnum", str(db),
               "-q", "-n", str(requests), "-P", "64", "-r", "100000", "-t", "lpush"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout
    match = re.search(r"LPUSH: ([\d.]+) requests per second", output)
    if match is None:
        raise RuntimeError(f"unexpected redis-benchmark output: {output!r}")
    client = get_store().client
    for key in client.scan_iter("mylist*", count=1000):  # redis-benchmark's keys, in our db only
        client.delete(key)
    return {"command": " ".join(command[1:]), "requests_per_s": float(match.group(1))}


def _create(probe: Probe, body: str) -> Post:
    """post_create commits in its own transaction; the commit enqueues fanout_post."""
    return post_create(author=probe.author, body=body)


def _check_delivered(probe: Probe) -> None:
    """Every follower's timeline holds the author's newest post exactly once (LPOS COUNT 0
    finds every position in Redis: no list crosses the wire)."""
    newest = Post.objects.filter(author=probe.author).order_by("-id").values_list("id", flat=True).first()
    client = get_store().client
    with client.pipeline(transaction=False) as pipe:
        for follower_id in probe.follower_ids:
            pipe.lpos(timeline_key(follower_id), newest, count=0)
        found = pipe.execute()
    bad = sum(1 for positions in found if len(positions or []) != 1)
    if bad:
        raise RuntimeError(f"{bad} of {len(found)} timelines do not hold post {newest} exactly once")
