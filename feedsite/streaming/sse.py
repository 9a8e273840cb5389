"""Server-Sent Events framing and the plain HTTP answers of the stream server.

Every event has an ``event:`` line and a space after each colon (Mastodon.py 2.3.3's parser
splits on ``": "`` and needs ``event``); ``data:`` is one line of JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

Send = Callable[[dict], Awaitable[None]]

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
]
HEARTBEAT = b": heartbeat\n\n"


def sse_event(event: str, data: str, *, event_id: int | None = None) -> bytes:
    """One event; ``data`` must hold no newline (json.dumps output never does)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


def sse_retry(ms: int) -> bytes:
    """The reconnect delay hint sent before a stream is closed by the server."""
    return f"retry: {ms}\n\n".encode()


def json_data(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def respond(send: Send, status: int, body: bytes, *, content_type: bytes, headers=()) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, payload: dict, *, headers=()) -> None:
    await respond(
        send, status, json_data(payload).encode(), content_type=b"application/json", headers=headers
    )


async def respond_error(send: Send, status: int, message: str, *, headers=()) -> None:
    """Mastodon's error body, ``{"error": …}``, as the REST API's Mastodon routes answer."""
    await respond_json(send, status, {"error": message}, headers=headers)
