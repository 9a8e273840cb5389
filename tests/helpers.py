from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from timelines.keys import outbox_key, timeline_key
from timelines.store import TimelineStore


def timeline_raw(store: TimelineStore, user_id: int) -> list[int]:
    """A timeline's raw Redis content, markers included."""
    return [int(x) for x in store.client.lrange(timeline_key(user_id), 0, -1)]


def outbox_raw(store: TimelineStore, author_id: int) -> list[int]:
    return [int(x) for x in store.client.lrange(outbox_key(author_id), 0, -1)]


def feed_ids(client: APIClient, limit: int = 100) -> list[int]:
    """Every post id of the client's feed, walking all pages."""
    ids, url = [], f"/api/feed/?limit={limit}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += [post["id"] for post in response.json()["results"]]
        url = response.json()["next"]
    return ids


def assert_error(response, status: int, field: str | None = None) -> str:
    """The response is a JSON error with the status and a non-empty ``detail`` message; for a
    validation error the field is named in ``errors``. Returns the message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body["detail"]


# Every post object the API returns has exactly these keys.
POST_KEYS = {
    "id",
    "author",
    "body",
    "media_urls",
    "created_at",
    "like_count",
    "comment_count",
    "share_count",
    "liked_by_me",
    "repost_of",
}


def feed_ids_while(client: APIClient, url: str, step: Callable[[], bool]) -> list[int]:
    """Walk every page from ``url`` while another thread (its own database connection) calls
    ``step()`` until the walk ends or ``step`` returns False. Returns the ids seen."""
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set() and step():
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        seen = []
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.content
            seen += [post["id"] for post in response.json()["results"]]
            url = response.json()["next"]
    finally:
        stop.set()
        thread.join(30)
    return seen


@contextlib.contextmanager
def monitored_commands(store: TimelineStore) -> Iterator[list[str]]:
    """What the (single) timeline Redis receives from this test's database while the block
    runs, as MONITOR prints it (scripts' own commands included); filled in on exit."""
    db = store.client.connection_pool.connection_kwargs.get("db", 0)
    monitor_client = redis.Redis.from_url(settings.TIMELINE_REDIS_URL, socket_timeout=30)
    seen: list[str] = []
    started = threading.Event()

    def record() -> None:
        with monitor_client.monitor() as monitor:
            started.set()
            for event in monitor.listen():
                if "stop-monitor" in event["command"]:
                    return
                if event.get("db") == db and not event["command"].startswith(("SCRIPT", "PING", "CLIENT")):
                    seen.append(event["command"])

    thread = threading.Thread(target=record, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield seen
    finally:
        store.client.execute_command("PING", "stop-monitor")
        thread.join(10)
    assert not thread.is_alive(), "MONITOR never saw the stop marker"
