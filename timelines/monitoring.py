"""What the fan-out is doing: broker queue depth and lag, and recent throughput.

Read by ``manage.py fanout_status`` and by /metrics at scrape time. Throughput is counted in
per-minute Redis hashes on ``REDIS_URL`` (the broker's Redis by default, not the timeline
store), so every worker process adds to the same numbers and any process can read them.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from django.conf import settings

from timelines.fanout.plan import FANOUT_BULK_QUEUE, FANOUT_QUEUE
from timelines.keys import STATS_KEY

logger = logging.getLogger(__name__)

STATS_TTL_SECONDS = 3 * 3600
STATS_FIELDS = ("posts", "chunks", "recipients", "writes")
# kombu's Redis transport keeps priorities 3, 6 and 9 in lists of their own next to the queue.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
_UNACKED_KEY = "unacked"
SENT_AT_HEADER = "sent_at"


@dataclass(frozen=True)
class QueueStats:
    name: str
    pending: int
    oldest_age: float | None  # seconds; None when empty or unknown (non-Redis broker)


@functools.cache
def _stats_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def fanout_stats_record(**counts: int) -> None:
    """Add to this minute's fan-out counters (posts, chunks, recipients, writes). Never
    raises: losing a statistic must not fail a fan-out."""
    key = STATS_KEY.format(int(time.time() // 60))
    try:
        with _stats_client().pipeline(transaction=False) as pipe:
            for field, value in counts.items():
                if value:
                    pipe.hincrby(key, field, value)
            pipe.expire(key, STATS_TTL_SECONDS)
            pipe.execute()
    except redis.exceptions.RedisError as exc:
        logger.warning("could not record fan-out statistics: %s", exc)


def fanout_throughput(*, minutes: int) -> dict[str, int]:
    """Fan-out totals over the last ``minutes`` minutes, the current one included."""
    now = int(time.time() // 60)
    with _stats_client().pipeline(transaction=False) as pipe:
        for minute in range(now - minutes + 1, now + 1):
            pipe.hgetall(STATS_KEY.format(minute))
        buckets = pipe.execute()
    totals = dict.fromkeys(STATS_FIELDS, 0)
    for bucket in buckets:
        for field, value in bucket.items():
            name = field.decode()
            totals[name] = totals.get(name, 0) + int(value)
    return totals


def fanout_queue_names() -> list[str]:
    """Every queue Celery routes tasks to: the default one plus any configured."""
    from feedsite.celery import app

    names = {app.conf.task_default_queue or "celery", FANOUT_QUEUE, FANOUT_BULK_QUEUE}
    for queue in app.conf.task_queues or ():
        names.add(queue.name)
    routes = app.conf.task_routes or {}
    if isinstance(routes, dict):
        names |= {route["queue"] for route in routes.values() if isinstance(route, dict) and "queue" in route}
    return sorted(names)


def fanout_queue_stats(queues: Sequence[str] | None = None) -> list[QueueStats]:
    """Pending tasks per queue and the age of the oldest one, straight from the broker."""
    names = list(queues) if queues is not None else fanout_queue_names()
    url = settings.CELERY_BROKER_URL
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return _amqp_queue_stats(url, names)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                for step in _PRIORITY_STEPS:
                    key = name if step == 0 else f"{name}{_PRIORITY_SEP}{step}"
                    pipe.llen(key)
                    pipe.lindex(key, -1)  # consumers pop from the right: the oldest message
            raw = pipe.execute()
    finally:
        client.close()
    stats = []
    per_queue = 2 * len(_PRIORITY_STEPS)
    for index, name in enumerate(names):
        chunk = raw[index * per_queue : (index + 1) * per_queue]
        pending = sum(chunk[0::2])
        sent = [_sent_at(message) for message in chunk[1::2] if message is not None]
        sent = [s for s in sent if s is not None]
        oldest = max(0.0, time.time() - min(sent)) if sent else None
        stats.append(QueueStats(name=name, pending=pending, oldest_age=oldest))
    return stats


def fanout_in_flight() -> int | None:
    """Tasks delivered to a worker and not yet acknowledged (Redis broker only)."""
    url = settings.CELERY_BROKER_URL
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return int(client.hlen(_UNACKED_KEY))
    finally:
        client.close()


def _sent_at(message: bytes) -> float | None:
    try:
        value = json.loads(message)["headers"].get(SENT_AT_HEADER)
        return float(value) if value is not None else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _amqp_queue_stats(url: str, names: Sequence[str]) -> list[QueueStats]:
    from kombu import Connection

    stats = []
    with Connection(url, connect_timeout=2) as connection:
        channel = connection.default_channel
        for name in names:
            try:
                _, pending, _ = channel.queue_declare(queue=name, passive=True)
            except Exception:  # the queue does not exist yet: nothing was ever sent to it
                pending = 0
                channel = connection.channel()
            stats.append(QueueStats(name=name, pending=pending, oldest_age=None))
    return stats
