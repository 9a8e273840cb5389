"""Prometheus metrics (prometheus_client). Every metric the service exports is defined here.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` sets it), each gunicorn and Celery worker
process writes its samples to files in that directory and ``GET /metrics`` adds them all up,
so counters from the Celery workers (fan-out) and the web workers (feeds) appear together.
Without it, /metrics shows the serving process alone (development, tests).

Queue depth and age are not counted by anyone: they are read from the broker when /metrics
is scraped (``FanoutQueueCollector``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

TIMELINE_READS = Counter(
    "feedsite_timeline_reads_total",
    "Timeline and outbox reads by the feed, by kind (timeline, outbox) and result: hit (built in "
    "Redis), local (outbox served from this process's short-lived copy), miss (rebuilt).",
    ["kind", "result"],
)
TIMELINE_REBUILDS = Counter(
    "feedsite_timeline_rebuilds_total",
    "Rebuilds from PostgreSQL, by kind and outcome: built (this process rebuilt and cached it), "
    "waited (another process was rebuilding it; this one waited and read the result), uncached "
    "(gave up waiting and served PostgreSQL's answer without caching it).",
    ["kind", "outcome"],
)
TIMELINE_REBUILD_SECONDS = Histogram(
    "feedsite_timeline_rebuild_seconds",
    "Time to rebuild one timeline or outbox from PostgreSQL (outcome built).",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
TIMELINE_WRITES = Counter(
    "feedsite_timeline_writes_total",
    "Post ids added to Redis lists, by kind: fanout (followers' timelines), outbox (a pull-mode "
    "author's outbox), own (the author's own timeline), backfill (after a follow).",
    ["kind"],
)
FANOUT_CHUNKS = Counter("feedsite_fanout_chunks_total", "Fan-out chunk tasks completed.")
FANOUT_RECIPIENTS = Counter(
    "feedsite_fanout_recipients_total",
    "Followers a push-mode post was sent to (all of them: those without a timeline cost a no-op LPUSHX).",
)
FANOUT_TASK_WAIT = Histogram(
    "feedsite_fanout_task_wait_seconds",
    "Fan-out lag: how long a fan-out task waited in the broker queue before a worker started it.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FEED_REQUEST_SECONDS = Histogram(
    "feedsite_feed_request_seconds",
    "Time to assemble one feed page, split by whether outboxes had to be pulled (pulls=yes) or "
    "the viewer's timeline sufficed (pulls=no).",
    ["pulls"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
FEED_PULLS = Histogram(
    "feedsite_feed_pulls_per_request",
    "Celebrity outboxes merged into one feed page.",
    buckets=(0, 1, 2, 3, 5, 10, 20, 50, 100, 250),
)


class FanoutQueueCollector(Collector):
    """Broker queue depth and the age of the oldest waiting fan-out task, read at scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from timelines.monitoring import fanout_queue_stats

        depth = GaugeMetricFamily(
            "feedsite_fanout_queue_depth", "Tasks waiting in the broker queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "feedsite_fanout_queue_oldest_seconds",
            "Age of the oldest task waiting in the queue (fan-out lag; 0 when empty).",
            labels=["queue"],
        )
        up = GaugeMetricFamily("feedsite_broker_up", "1 if the broker answered this scrape.")
        try:
            stats = fanout_queue_stats()
        except Exception:  # a scrape must still answer when the broker is down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue in stats:
            depth.add_metric([queue.name], queue.pending)
            oldest.add_metric([queue.name], queue.oldest_age or 0.0)
        yield from (depth, oldest, up)


def metrics_exposition() -> tuple[bytes, str]:
    """The body and content type for GET /metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_DefaultRegistryView())
    registry.register(FanoutQueueCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _DefaultRegistryView(Collector):
    """The process's own metrics (single-process mode), next to the scrape-time collector."""

    def collect(self):
        return REGISTRY.collect()
