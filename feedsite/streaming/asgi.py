"""The stream server's ASGI application: ``uvicorn feedsite.streaming.asgi:application``
(docs/operations.md#stream-server). Raw ASGI rather than Django's handler: a stream is one
long-lived task per connection, and nothing of Django's request cycle helps it.

Routes: ``/api/v1/streaming/health`` (``OK``), ``/api/v1/streaming/user`` (Mastodon's user
stream) and ``/api/stream/`` (ours). A bad token is a 401 and too many open streams a 429,
JSON, before any stream byte; Redis unavailable is a 503 with Retry-After."""

from __future__ import annotations

import os
import urllib.parse

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedsite.settings")
django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402

from feedsite.streaming import loading  # noqa: E402
from feedsite.streaming.hub import Hub, HubUnavailable  # noqa: E402
from feedsite.streaming.sse import respond, respond_error  # noqa: E402
from feedsite.streaming.stream import MASTODON, NATIVE, Stream, TooManyStreams  # noqa: E402

ROUTES = {"/api/v1/streaming/user": MASTODON, "/api/stream/": NATIVE, "/api/stream": NATIVE}
HEALTH = {"/api/v1/streaming/health", "/api/v1/streaming/health/"}
INVALID_TOKEN = "The access token is invalid"


def credentials(scope: dict, query: dict[str, list[str]]) -> tuple[str, str] | None:
    """(scheme, token) from ``Authorization: Token|Bearer …`` or the ``access_token`` query
    parameter (browsers' EventSource cannot set headers: an OAuth token, else a native one)."""
    headers = dict(scope["headers"])
    header = headers.get(b"authorization", b"").decode("latin-1").strip()
    if header:
        scheme, _, token = header.partition(" ")
        scheme = scheme.lower()
        return (scheme, token.strip()) if scheme in ("token", "bearer") else None
    if "access_token" in query:
        return ("query", query["access_token"][0])
    return None


async def authenticate(scope: dict, query: dict[str, list[str]]) -> int | None:
    found = credentials(scope, query)
    if found is None:
        return None
    scheme, token = found
    if scheme == "query":
        reader = await sync_to_async(loading.reader_for_token)(scheme="bearer", token=token)
        return reader or await sync_to_async(loading.reader_for_token)(scheme="token", token=token)
    return await sync_to_async(loading.reader_for_token)(scheme=scheme, token=token)


def last_event_id(scope: dict, query: dict[str, list[str]]) -> int | str | None:
    """The resume point: the Last-Event-ID header, or ``last_event_id`` for EventSource's first
    connection; "bad" when it is not a post id."""
    raw = dict(scope["headers"]).get(b"last-event-id", b"").decode("latin-1").strip()
    raw = raw or (query.get("last_event_id") or [""])[0].strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 20 else "bad"


def site_base(scope: dict) -> str:
    """The origin Status entities point at: the instance's domain, else the request's host."""
    if settings.INSTANCE_DOMAIN:
        return f"https://{settings.INSTANCE_DOMAIN}"
    host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


class StreamServer:
    def __init__(self) -> None:
        self.hub: Hub | None = None

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.hub = Hub()
                await self.hub.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.hub is not None:
                    await self.hub.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict, receive, send) -> None:
        path = scope["path"]
        if path in HEALTH:
            await respond(send, 200, b"OK", content_type=b"text/plain; charset=utf-8")
            return
        kind = ROUTES.get(path)
        if kind is None:
            await respond_error(send, 404, "Not found")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await respond_error(send, 405, "Method not allowed", headers=[(b"allow", b"GET")])
            return
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        resume = last_event_id(scope, query) if kind == NATIVE else None
        if resume == "bad":
            await respond_error(send, 400, "Last-Event-ID must be a post id")
            return
        reader_id = await authenticate(scope, query)
        if reader_id is None:
            await respond_error(send, 401, INVALID_TOKEN)
            return
        stream = Stream(hub=self.hub, reader_id=reader_id, kind=kind, send=send, base=site_base(scope),
                        last_event_id=resume)  # fmt: skip
        try:
            await stream.open()
        except TooManyStreams:
            limit = settings.STREAM_MAX_PER_ACCOUNT
            await respond_error(send, 429, f"Too many open streams for this account (at most {limit})")
            return
        except HubUnavailable:
            await respond_error(
                send, 503, "Streaming is unavailable, retry shortly", headers=[(b"retry-after", b"2")]
            )
            return
        await stream.serve(receive)


application = StreamServer()
