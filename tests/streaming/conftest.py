"""A real stream server (uvicorn) on this worker's test databases, raw SSE clients for it, and
the publishing the fan-out side does (timelines/streams.py, on the other half of issue 15):
here the messages are PUBLISHed as the streaming contract spells them."""

from __future__ import annotations

import datetime
import http.client
import json
import secrets
import socket
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from feedsite.oauth.models import OOB_REDIRECT_URI
from feedsite.oauth.services import application_create
from graph.models import Account
from tests.support.procs import suite_env
from tests.support.uvicorn import uvicorn
from timelines.keys import STREAM_EVENTS_CHANNEL, author_channel, reader_channel

# Small bounds, so the tests reach them: the slow consumer and the per-account limit.
STREAM_ENV = {"STREAM_QUEUE_MAX": "8", "STREAM_MAX_PER_ACCOUNT": "2", "STREAM_HEARTBEAT_SECONDS": "15"}
READ_TIMEOUT = 20  # a safety net against a hung test, not an assertion


@pytest.fixture(scope="module")
def stream_server(django_db_setup) -> Iterator[str]:
    env = suite_env(**STREAM_ENV)
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    with uvicorn(env) as base:
        yield base


def publisher() -> redis.Redis:
    return redis.Redis.from_url(settings.TIMELINE_REDIS_URL)


def publish(channel: str, message: dict) -> int:
    """PUBLISH one contract message; the number of subscribed connections that got it."""
    with publisher() as client:
        return client.publish(channel, json.dumps(message))


def publish_post(*, post, reader: Account | None = None) -> int:
    """A pushed post on the reader's channel, or (no reader) a pull post on the author's."""
    channel = reader_channel(reader.id) if reader is not None else author_channel(post.author_id)
    return publish(channel, {"e": "post", "post": post.id, "author": post.author_id})


def publish_delete(*, post) -> int:
    return publish(STREAM_EVENTS_CHANNEL, {"e": "delete", "post": post.id, "author": post.author_id})


def publish_graph(*, reader: Account) -> int:
    return publish(reader_channel(reader.id), {"e": "graph", "user": reader.id})


def oauth_token(account: Account, scope: str = "read write follow push") -> str:
    """An OAuth access token for ``account`` (as the password grant would issue)."""
    from oauth2_provider.models import AccessToken

    app = application_create(name="stream tests", redirect_uris=[OOB_REDIRECT_URI], scopes=scope.split(),
                             website="https://client.example")  # fmt: skip
    token = secrets.token_urlsafe(24)
    expires = timezone.now() + datetime.timedelta(days=1)
    AccessToken.objects.create(user=account, application=app, token=token, expires=expires, scope=scope)
    return token


@dataclass
class Event:
    event: str
    data: str
    id: str | None = None

    def json(self):
        return json.loads(self.data)


class SseClient:
    """A raw SSE client over http.client: the status and headers, then one event at a time
    (heartbeat comments counted, not returned). ``rcvbuf`` shrinks its socket's receive buffer
    (a slow consumer that never reads)."""

    def __init__(self, base: str, path: str, *, headers: dict[str, str], rcvbuf: int | None = None):
        url = urllib.parse.urlparse(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=READ_TIMEOUT)
        if rcvbuf is not None:
            self.connection.sock = socket.create_connection((url.hostname, url.port), timeout=READ_TIMEOUT)
            self.connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.heartbeats = 0
        self.retry: str | None = None

    def body_json(self) -> dict:
        return json.loads(self.response.read())

    def next_event(self) -> Event | None:
        """The next event, or None when the server ended the stream."""
        fields: dict[str, str] = {}
        while True:
            try:
                raw = self.response.readline()
            except (http.client.IncompleteRead, ConnectionError):
                return None
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if line == "":
                if "event" in fields:
                    return Event(fields["event"], fields.get("data", ""), fields.get("id"))
                fields = {}
                continue
            if line.startswith(":"):
                self.heartbeats += 1
                continue
            key, _, value = line.partition(": ")
            if key == "retry":
                self.retry = value
            fields[key] = value

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def open_stream(stream_server):
    """Open SSE clients on the stream server, all closed after the test."""
    clients: list[SseClient] = []

    def open_(
        path: str = "/api/stream/", *, token: str | None = None, scheme: str = "Token", **kw
    ) -> SseClient:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"{scheme} {token}"
        client = SseClient(stream_server, path, headers=headers, **kw)
        clients.append(client)
        return client

    yield open_
    for client in clients:
        client.close()
