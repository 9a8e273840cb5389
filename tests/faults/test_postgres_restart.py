"""PostgreSQL restarted under a running gunicorn and Celery worker (a private cluster on a free
port): while it is down, requests fail fast with a JSON 503 and Retry-After; once it is back,
the same processes serve and fan out again, with no restart."""

from __future__ import annotations

import time

import pytest

from tests.support.http import Http
from tests.support.postgres import create_database
from tests.support.procs import wait_for
from tests.support.stack import Stack

pytestmark = [pytest.mark.faults]


def signup(http: Http, username: str) -> tuple[int, str]:
    status, _, body = http.call(
        "POST", "/api/accounts/", body={"username": username, "password": "a-long-passphrase-42"}
    )
    assert status == 201, body
    return body["id"], body["token"]


def feed_ids(http: Http, token: str) -> list[int]:
    status, _, body = http.call("GET", "/api/feed/", token=token)
    assert status == 200, body
    return [p["id"] for p in body["results"]]


def test_postgres_restart_gives_fast_503s_then_recovers_without_restarts(stack: Stack):
    cluster = stack.postgres()
    create_database(cluster, "feedsite")
    redis_server = stack.redis()
    env = Stack.env(database_url=cluster.url("feedsite"), redis_url=redis_server.url(), FEED_THROTTLES="off")
    stack.manage(env, "migrate", "--noinput", check=True)
    web, http = stack.gunicorn(env)
    worker = stack.worker(env)

    author_id, author = signup(http, "author")
    _, reader = signup(http, "reader")
    assert http.call("POST", f"/api/accounts/{author_id}/follow/", token=reader)[0] == 201
    assert feed_ids(http, reader) == []  # builds the reader's timeline
    status, _, body = http.call("POST", "/api/posts/", token=author, body={"body": "before"})
    before = body["id"]
    wait_for(lambda: feed_ids(http, reader) == [before], timeout=30, what="fan-out before the restart")

    cluster.stop()
    outage = []
    for method, path, token, payload in [
        ("GET", "/api/feed/", reader, None),
        ("POST", "/api/posts/", author, {"body": "during"}),
        ("GET", f"/api/accounts/{author_id}/", None, None),
    ]:
        started = time.monotonic()
        status, headers, body = http.call(method, path, token=token, body=payload)
        outage.append((method, path, status, round(time.monotonic() - started, 3)))
        assert status == 503, body
        assert headers["Retry-After"] == "5"
        assert body == {"detail": "The database is unavailable. Try again shortly."}
    print(f"\nPostgreSQL down: {outage}")

    cluster.start()
    assert feed_ids(http, reader) == [before]  # the very first request after the restart
    status, _, body = http.call("POST", "/api/posts/", token=author, body={"body": "after"})
    assert status == 201, body
    after = body["id"]
    wait_for(lambda: feed_ids(http, reader) == [after, before], timeout=30, what="fan-out after the restart")
    assert web.alive and worker.alive  # the same processes, never restarted
