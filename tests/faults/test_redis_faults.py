"""Redis faults against a real gunicorn and Celery worker, on private redis-servers.

* Redis down: feeds answer 200 from PostgreSQL (marked degraded), posting and following still
  succeed, and the sweeper completes what could not be enqueued once Redis is back.
* Redis flushed and then restarted in the middle of a mixed load: no 5xx, and afterwards every
  sampled feed matches PostgreSQL (check_feeds).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from posts.models import FanoutState, Post
from tests.factories import AccountFactory, token_for
from tests.support.http import Http
from tests.support.procs import wait_for
from tests.support.stack import Stack, suite_database_url
from timelines.views import DEGRADED_HEADER

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def feed(http: Http, token: str) -> tuple[list[int], dict]:
    status, headers, body = http.call("GET", "/api/feed/?limit=100", token=token)
    assert status == 200, body
    return [p["id"] for p in body["results"]], headers


def publish(http: Http, token: str, text: str) -> int:
    status, _, body = http.call("POST", "/api/posts/", token=token, body={"body": text})
    assert status == 201, body
    return body["id"]


def fanout_state(post_id: int) -> str:
    return Post.objects.get(id=post_id).fanout_state


def test_redis_down_degrades_reads_keeps_writes_and_the_sweeper_catches_up(stack: Stack):
    broker, timelines = stack.redis(), stack.redis()  # REDIS_URL, TIMELINE_REDIS_URL
    env = Stack.env(
        database_url=suite_database_url(), redis_url=broker.url(), timeline_redis_url=timelines.url()
    )
    _, http = stack.gunicorn(env)
    stack.worker(env)
    author, reader, newcomer = (AccountFactory() for _ in range(3))
    author_token, reader_token, newcomer_token = (token_for(a) for a in (author, reader, newcomer))
    assert http.call("POST", f"/api/accounts/{author.id}/follow/", token=reader_token)[0] == 201
    first = publish(http, author_token, "before the outage")
    wait_for(lambda: fanout_state(first) == "done", timeout=30, what="the first fan-out")
    assert feed(http, reader_token)[0] == [first]

    # 1. The broker's Redis dies (timelines stay up, with the reader's cached timeline).
    broker.stop()
    stranded = publish(http, author_token, "broker down")
    assert fanout_state(stranded) == "pending"  # the enqueue failed; PostgreSQL remembers
    assert feed(http, reader_token)[0] == [first]  # not fanned out into the cached timeline
    check = stack.manage(env, "check_feeds", "--sample", "0", "--user", str(reader.id))
    assert check.returncode == 1 and f"missing [{stranded}]" in check.stdout, check.stdout + check.stderr
    print(f"\nbroker down: POST 201, post {stranded} pending; check_feeds: {check.stderr.strip()}")

    broker.start()  # same port, empty: the lost work is only in PostgreSQL now
    swept = stack.manage(env, "sweep_fanout", "--grace", "0", check=True)
    assert "Enqueued fan-out for 1 pending posts" in swept.stdout
    wait_for(lambda: feed(http, reader_token)[0] == [stranded, first], timeout=60, what="the sweep")
    assert fanout_state(stranded) == "done"
    stack.manage(env, "check_feeds", "--sample", "0", "--user", str(reader.id), check=True)

    # 2. The timelines' Redis dies, keeping its data (as after a restart with persistence).
    timelines.stop(keep_data=True)
    ids, headers = feed(http, reader_token)
    assert headers.get(DEGRADED_HEADER) == "redis-unavailable"
    assert ids == [stranded, first]  # complete, from PostgreSQL
    during = publish(http, author_token, "timelines down")
    assert http.call("POST", f"/api/accounts/{author.id}/follow/", token=newcomer_token)[0] == 201
    ids, headers = feed(http, reader_token)
    assert headers.get(DEGRADED_HEADER) == "redis-unavailable" and ids[0] == during
    print(f"timelines down: GET /api/feed/ 200 with {DEGRADED_HEADER}; POST and follow succeeded")

    timelines.start()  # its old data is back: the reader's list misses `during` for now
    wait_for(lambda: fanout_state(during) == "done", timeout=60, what="the retried fan-out")
    stack.manage(env, "sweep_fanout", check=True)  # drops the newcomer's stale timeline
    ids, headers = feed(http, reader_token)
    assert DEGRADED_HEADER not in headers and ids == [during, stranded, first]
    assert feed(http, newcomer_token)[0] == [during, stranded, first]  # missed backfill rebuilt
    result = stack.manage(env, "check_feeds", "--sample", "10", check=True)
    print(result.stdout.strip())


USERS = 12
LOAD_SECONDS = 6.0


def test_redis_flushed_and_restarted_during_mixed_load_loses_nothing(stack: Stack):
    server = stack.redis()
    env = Stack.env(database_url=suite_database_url(), redis_url=server.url(), FEED_THROTTLES="off")
    _, http = stack.gunicorn(env)
    stack.worker(env)
    accounts = [AccountFactory() for _ in range(USERS)]
    tokens = {a.id: token_for(a) for a in accounts}
    ids = list(tokens)
    rng = random.Random(6)
    for account_id in ids:
        for other in rng.sample([i for i in ids if i != account_id], 4):
            assert http.call("POST", f"/api/accounts/{other}/follow/", token=tokens[account_id])[0] == 201

    statuses: Counter = Counter()
    failures: list[str] = []
    stop = threading.Event()

    def load(seed: int) -> None:
        rng = random.Random(seed)
        own_posts: list[int] = []
        while not stop.is_set():
            me = rng.choice(ids)
            roll = rng.random()
            try:
                if roll < 0.35:
                    status, _, body = http.call(
                        "POST", "/api/posts/", token=tokens[me], body={"body": "load"}
                    )
                    if status == 201:
                        own_posts.append((me, body["id"]))
                elif roll < 0.8:
                    status, _, _ = http.call("GET", "/api/feed/?limit=50", token=tokens[me])
                elif roll < 0.9:
                    other = rng.choice([i for i in ids if i != me])
                    method = rng.choice(["POST", "DELETE"])
                    status, _, _ = http.call(method, f"/api/accounts/{other}/follow/", token=tokens[me])
                elif own_posts:
                    owner, post_id = own_posts.pop(rng.randrange(len(own_posts)))
                    status, _, _ = http.call("DELETE", f"/api/posts/{post_id}/", token=tokens[owner])
                else:
                    continue
            except OSError as exc:
                failures.append(repr(exc))
                continue
            statuses[status] += 1

    threads = [threading.Thread(target=load, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS / 3)
    server.client().flushall()  # queue, timelines, outboxes and throttle counters: all gone
    time.sleep(LOAD_SECONDS / 3)
    server.stop()  # and a crash + restart with nothing kept
    time.sleep(0.5)
    server.start()
    time.sleep(LOAD_SECONDS / 3)
    stop.set()
    for thread in threads:
        thread.join()
    print(f"\nmixed load with a FLUSHALL and a restart: {dict(statuses)}, transport errors {failures}")
    assert not failures
    assert not [s for s in statuses if s >= 500]
    assert statuses[201] and statuses[200]

    # Posts whose enqueue failed while Redis was down are pending: the sweeper finishes them.
    client = server.client()
    stack.manage(env, "sweep_fanout", "--grace", "0", check=True)
    wait_for(
        lambda: (
            not Post.objects.filter(fanout_state=FanoutState.PENDING).exists()
            and not any(client.llen(queue) for queue in ("celery", "fanout", "fanout_bulk"))
            and client.hlen("unacked") == 0
        ),
        timeout=60,
        what="fan-out to finish",
        interval=0.2,
    )
    result = stack.manage(env, "check_feeds", "--sample", str(USERS), check=True)
    assert f"{USERS} feeds checked" in result.stdout and "0 with problems" in result.stdout
    print(result.stdout.strip())
