"""One open stream (docs/architecture.md#live-feed): its subscriptions, its bounded send queue,
and what it writes.

Invariants: the hub only ``offer``s messages (never blocks on a stream); a stream whose queue
is full is closed, so a slow consumer costs the process at most STREAM_QUEUE_MAX messages and
resumes with Last-Event-ID. Every message is loaded through the feed's loader with the reader
as viewer before it is written (``loading``). On our stream, ``id:`` is the newest post id
written so far, a post is written at most once per connection (replayed or live), and a
resume replays the missed posts still in the feed window, oldest first, after subscribing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from asgiref.sync import sync_to_async
from django.conf import settings

from feedsite.streaming import loading
from feedsite.streaming.hub import Hub
from feedsite.streaming.sse import HEARTBEAT, SSE_HEADERS, Send, json_data, sse_event, sse_retry
from timelines.keys import author_channel, reader_channel

logger = logging.getLogger(__name__)

NATIVE, MASTODON = "native", "mastodon"
SENT_MEMORY = 4096  # post ids remembered per connection for "at most once"
CLOSE_TIMEOUT = 1.0


class TooManyStreams(Exception):
    pass


class Stream:
    def __init__(
        self, *, hub: Hub, reader_id: int, kind: str, send: Send, base: str, last_event_id: int | None
    ):
        self.hub, self.reader_id, self.kind, self.base = hub, reader_id, kind, base
        self._send = send
        self.last_event_id = last_event_id
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=settings.STREAM_QUEUE_MAX)
        self.channels: set[str] = set()
        self.graph: loading.ReaderGraph | None = None
        self.cursor = 0
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        self._pump: asyncio.Task | None = None
        self.closing = False
        self.retry = False
        self.overflowed = False

    # Called by the hub, from the event loop: never blocks.
    def offer(self, message: dict) -> None:
        if self.closing:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.info("stream of %s fell %s messages behind: closed", self.reader_id, self.queue.maxsize)
            self.overflowed = True
            self.close(retry=True)

    def close(self, *, retry: bool) -> None:
        if self.closing:
            return
        self.closing, self.retry = True, retry
        if self._pump is not None:
            self._pump.cancel()

    async def open(self) -> None:
        """Load the graph and subscribe; raises TooManyStreams or hub.HubUnavailable, before
        any byte of the response."""
        self.graph = await sync_to_async(loading.reader_graph)(reader_id=self.reader_id)
        if self.hub.open_count(self.reader_id) >= settings.STREAM_MAX_PER_ACCOUNT:
            raise TooManyStreams
        self.channels = self._channels_for(self.graph)
        await self.hub.attach(self, self.channels)

    async def serve(self, receive) -> None:
        """Write the stream until the client leaves or the stream is closed; detaches."""
        watcher = asyncio.create_task(self._watch_disconnect(receive))
        try:
            await self._send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            self._pump = asyncio.create_task(self._write_all())
            try:
                await self._pump
            except asyncio.CancelledError:
                if not self.closing:
                    raise  # the server is shutting down
            except Exception:  # a failed load or Redis call: end this stream, it resumes
                logger.exception("stream of %s failed", self.reader_id)
                self.closing, self.retry = True, True
            if self.closing and not self.overflowed:
                with contextlib.suppress(Exception):
                    tail = sse_retry(settings.STREAM_RETRY_MS) if self.retry else b""
                    await asyncio.wait_for(self._send_body(tail, more=False), CLOSE_TIMEOUT)
        finally:
            watcher.cancel()
            await self.hub.detach(self, self.channels)

    async def _watch_disconnect(self, receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.close(retry=False)

    async def _send_body(self, body: bytes, *, more: bool = True) -> None:
        await self._send({"type": "http.response.body", "body": body, "more_body": more})

    async def _write_all(self) -> None:
        if self.kind == NATIVE:
            await self._start_native()
        heartbeat = settings.STREAM_HEARTBEAT_SECONDS
        while not self.closing:
            try:
                message = await asyncio.wait_for(self.queue.get(), heartbeat)
            except TimeoutError:
                await self._send_body(HEARTBEAT)
                continue
            await self._handle(message)

    async def _start_native(self) -> None:
        if self.last_event_id is None:
            self.cursor = await sync_to_async(loading.newest_feed_post_id)(reader_id=self.reader_id)
            return
        self.cursor = self.last_event_id
        missed = await sync_to_async(loading.missed_posts)(
            reader_id=self.reader_id, after_id=self.last_event_id
        )
        for post in missed:
            await self._write_post(post)

    async def _handle(self, message: dict) -> None:
        event = message.get("e")
        if event == "post" and isinstance(message.get("post"), int):
            await self._deliver_post(message["post"])
        elif event == "delete" and isinstance(message.get("post"), int):
            if message.get("author") in self.graph.authors:
                await self._deliver_delete(message["post"])
        elif event == "graph":
            await self._reload_graph()

    async def _deliver_post(self, post_id: int) -> None:
        if self.kind == NATIVE:
            if post_id in self._sent:
                return
            post = await sync_to_async(loading.native_post)(reader_id=self.reader_id, post_id=post_id)
            if post is not None:
                await self._write_post(post)
            return
        status = await sync_to_async(loading.mastodon_status)(
            reader_id=self.reader_id, post_id=post_id, base=self.base
        )
        if status is not None:
            await self._send_body(sse_event("update", json_data(status)))

    async def _write_post(self, post: dict) -> None:
        post_id = post["id"]
        if post_id in self._sent:
            return
        self._sent.add(post_id)
        self._sent_order.append(post_id)
        if len(self._sent_order) > SENT_MEMORY:
            self._sent.discard(self._sent_order.popleft())
        self.cursor = max(self.cursor, post_id)
        await self._send_body(sse_event("post", json_data(post), event_id=self.cursor))

    async def _deliver_delete(self, post_id: int) -> None:
        if self.kind == NATIVE:
            await self._send_body(sse_event("delete", json_data({"id": post_id}), event_id=self.cursor))
        else:
            await self._send_body(sse_event("delete", str(post_id)))

    async def _reload_graph(self) -> None:
        self.graph = await sync_to_async(loading.reader_graph)(reader_id=self.reader_id)
        new = self._channels_for(self.graph)
        old, self.channels = self.channels, new
        await self.hub.update(self, old=old, new=new)

    def _channels_for(self, graph: loading.ReaderGraph) -> set[str]:
        return {reader_channel(self.reader_id), *(author_channel(a) for a in graph.pull_authors)}
