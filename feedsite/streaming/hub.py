"""One process's Redis side (docs/architecture.md#live-feed): ONE pub/sub connection shared by
every open stream, channel reference counts, and the readers' "has a stream" markers.

Invariants: a channel is subscribed while at least one local stream wants it, and ``stream:all``
always; ``attach`` returns once Redis has confirmed the subscriptions (so a resume that reads
the feed afterwards misses nothing); the marker ``st:{uid}`` exists while the reader has a local
stream (set with a TTL, refreshed, deleted with the last one). When the pub/sub connection
fails every stream is closed with a ``retry:`` hint and the hub resubscribes once Redis answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.cluster import ClusterNode
from redis.backoff import NoBackoff
from redis.retry import Retry

from timelines.keys import STREAM_EVENTS_CHANNEL, stream_marker_key

logger = logging.getLogger(__name__)

MARKER_TTL_SECONDS = 18 * 60
MARKER_REFRESH_SECONDS = 6 * 60
RECONNECT_SECONDS = 1.0
SUBSCRIBE_TIMEOUT = 10.0
START_TIMEOUT = 5.0
REDIS_ERRORS = (aioredis.RedisError, OSError)


class Subscriber(Protocol):
    reader_id: int

    def offer(self, message: dict) -> None: ...  # never blocks
    def close(self, *, retry: bool) -> None: ...


class HubUnavailable(Exception):
    """Redis is not answering: no stream can be opened right now."""


class Hub:
    def __init__(self) -> None:
        # No silent reconnects: after a Redis restart the markers are gone and messages were
        # lost, so the hub must notice, close the streams (they resume) and start afresh.
        options = {"decode_responses": True, "health_check_interval": 30, "retry": Retry(NoBackoff(), 0)}
        nodes = settings.TIMELINE_REDIS_CLUSTER_NODES
        if nodes and not settings.STREAM_REDIS_URL:
            # Markers go to the slot of their reader's timeline; a PUBLISH anywhere in a
            # cluster reaches the subscribers of every node, so any node carries the bus.
            startup = [ClusterNode(host, int(port)) for host, _, port in (n.rpartition(":") for n in nodes)]
            self.markers = aioredis.RedisCluster(startup_nodes=startup, decode_responses=True)
            host, _, port = nodes[0].rpartition(":")
            self.redis = aioredis.Redis(host=host, port=int(port), **options)
        else:
            url = settings.STREAM_REDIS_URL or settings.TIMELINE_REDIS_URL
            self.redis = self.markers = aioredis.from_url(url, **options)
        self.pubsub: aioredis.client.PubSub | None = None
        self.channels: dict[str, set[Subscriber]] = defaultdict(set)
        self.readers: dict[int, set[Subscriber]] = defaultdict(set)
        self.ready = asyncio.Event()
        self._confirmations: dict[str, list[asyncio.Future]] = defaultdict(list)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Start listening; returns once ``stream:all`` is subscribed, or after
        START_TIMEOUT with Redis down (streams are then a 503 until it answers)."""
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._refresh_markers())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), START_TIMEOUT)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()
        if self.markers is not self.redis:
            await self.markers.aclose()

    def open_count(self, reader_id: int) -> int:
        return len(self.readers.get(reader_id, ()))

    async def attach(self, subscriber: Subscriber, channels: set[str]) -> None:
        if not self.ready.is_set():
            raise HubUnavailable
        new = self.readers[subscriber.reader_id]
        first = not new
        new.add(subscriber)
        try:
            if first:
                await self.markers.set(stream_marker_key(subscriber.reader_id), "1", ex=MARKER_TTL_SECONDS)
            await self._subscribe(subscriber, channels)
        except (TimeoutError, *REDIS_ERRORS) as exc:
            await self.detach(subscriber, channels)
            raise HubUnavailable from exc

    async def update(self, subscriber: Subscriber, *, old: set[str], new: set[str]) -> None:
        """A reader's graph changed: subscribe what is new, release what is gone."""
        await self._subscribe(subscriber, new - old)
        await self._release(subscriber, old - new)

    async def detach(self, subscriber: Subscriber, channels: set[str]) -> None:
        local = self.readers.get(subscriber.reader_id)
        if local is not None:
            local.discard(subscriber)
            if not local:
                del self.readers[subscriber.reader_id]
                with contextlib.suppress(*REDIS_ERRORS):  # else it expires
                    await self.markers.delete(stream_marker_key(subscriber.reader_id))
        await self._release(subscriber, channels)

    async def _subscribe(self, subscriber: Subscriber, channels: set[str]) -> None:
        fresh = [channel for channel in channels if not self.channels.get(channel)]
        for channel in channels:
            self.channels[channel].add(subscriber)
        if not fresh or self.pubsub is None:
            return
        waits = []
        for channel in fresh:
            future = asyncio.get_running_loop().create_future()
            self._confirmations[channel].append(future)
            waits.append(future)
        await self.pubsub.subscribe(*fresh)
        await asyncio.wait_for(asyncio.gather(*waits), SUBSCRIBE_TIMEOUT)

    async def _release(self, subscriber: Subscriber, channels: set[str]) -> None:
        gone = []
        for channel in channels:
            holders = self.channels.get(channel)
            if holders is None:
                continue
            holders.discard(subscriber)
            if not holders:
                del self.channels[channel]
                gone.append(channel)
        if gone and self.pubsub is not None:
            with contextlib.suppress(*REDIS_ERRORS):  # the listener then starts afresh
                await self.pubsub.unsubscribe(*gone)

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(STREAM_EVENTS_CHANNEL)
                self.pubsub = pubsub
                async for message in pubsub.listen():
                    self._dispatch(message)
            except REDIS_ERRORS as exc:
                logger.warning("stream hub: Redis pub/sub lost (%s); closing streams", exc)
            finally:
                self.ready.clear()
                self.pubsub = None
                self._close_all()
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _dispatch(self, message: dict) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "subscribe":
            if channel == STREAM_EVENTS_CHANNEL:
                self.ready.set()
            for future in self._confirmations.pop(channel, []):
                if not future.done():
                    future.set_result(None)
            return
        if kind != "message":
            return
        try:
            payload = json.loads(message["data"])
        except (TypeError, ValueError):
            logger.warning("stream hub: unreadable message on %s", channel)
            return
        if not isinstance(payload, dict):
            return
        if channel == STREAM_EVENTS_CHANNEL:
            targets = [s for holders in self.readers.values() for s in holders]
        else:
            targets = list(self.channels.get(channel, ()))
        for subscriber in targets:
            subscriber.offer(payload)

    def _close_all(self) -> None:
        readers, self.readers, self.channels = self.readers, defaultdict(set), defaultdict(set)
        for holders in readers.values():
            for subscriber in holders:
                subscriber.close(retry=True)
        for futures in self._confirmations.values():
            for future in futures:
                if not future.done():
                    future.set_exception(aioredis.ConnectionError("pub/sub connection lost"))
        self._confirmations.clear()

    async def _refresh_markers(self) -> None:
        while True:
            await asyncio.sleep(MARKER_REFRESH_SECONDS)
            try:
                async with self.markers.pipeline() as pipe:
                    for reader_id in list(self.readers):
                        pipe.set(stream_marker_key(reader_id), "1", ex=MARKER_TTL_SECONDS)
                    await pipe.execute()
            except REDIS_ERRORS as exc:
                logger.warning("stream hub: marker refresh failed (%s)", exc)
