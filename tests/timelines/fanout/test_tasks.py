"""Task behaviour: retries on real connection failures, and single-key Redis commands only."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import feed_ids, monitored_commands, timeline_raw
from timelines import tasks
from timelines.store import COMPLETE, TimelineStore, get_store

pytestmark = pytest.mark.django_db


def test_tasks_are_late_acked_and_retry_on_connection_errors():
    for task in (tasks.fanout_post, tasks.fanout_chunk):
        assert task.acks_late is True
        assert redis.exceptions.ConnectionError in task.autoretry_for
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True


def test_chunk_retries_after_redis_connection_error(monkeypatch, redis_store, warm_timelines):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    post = PostFactory(author=author)
    # First attempt: a real client on a closed port (connection refused). Then the real one.
    dead = TimelineStore(redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0)))
    stores = iter([dead])
    attempts = []

    def flaky_store() -> TimelineStore:
        attempts.append(1)
        return next(stores, get_store())

    monkeypatch.setattr("timelines.store.get_store", flaky_store)
    # Eagerly (throw=False), Celery re-applies a retried task at once instead of queueing it.
    result = tasks.fanout_chunk.apply(args=[post.id, [follower.id], 800], throw=False)
    assert result.get() == 1
    assert len(attempts) == 2
    assert timeline_raw(redis_store, follower.id) == [post.id, COMPLETE]


def test_every_redis_command_touches_one_key(redis_store, client_for, run_commit_hooks):
    """Redis Cluster readiness: record what Redis receives while we fan out, rebuild, back
    fill, remove and read, and check that no command spans two keys."""
    reader, friend, celebrity = AccountFactory.create_batch(3)
    for account in (friend, celebrity):
        with run_commit_hooks():
            client_for(reader).post(f"/api/accounts/{account.id}/follow/")
    call_command("feed_config", account=celebrity.id, mode="pull")
    celebrity.refresh_from_db()

    with monitored_commands(redis_store) as seen:
        feed_ids(client_for(reader))  # rebuild
        with run_commit_hooks():
            PostFactory(author=friend)  # fan-out
            PostFactory(author=celebrity)  # outbox
        get_store().client.flushdb()
        feed_ids(client_for(reader))  # rebuild timeline and outbox
        with run_commit_hooks():
            client_for(reader).delete(f"/api/accounts/{friend.id}/follow/")  # removal
            client_for(reader).post(f"/api/accounts/{friend.id}/follow/")  # backfill
    assert seen, "MONITOR recorded nothing"
    # MONITOR shows script calls and the commands scripts run; all must be single-key.
    single_key = {
        "LRANGE", "LINDEX", "LPUSH", "LPUSHX", "LPOS", "RPUSH", "LTRIM", "LLEN", "PTTL", "PEXPIRE",
    }  # fmt: skip
    single_key |= {"HINCRBY", "EXPIRE"}  # fan-out statistics (timelines.monitoring)
    single_key |= {"PUBLISH"}  # live-feed events: a channel is not a key
    # The one exception, the live feed's publish script: it reads the stream markers of one
    # node's readers (MGET on a single Redis, EXISTS per key on a cluster: tests/timelines/
    # test_streams.py), passed as arguments, not KEYS, so a cluster routes it to any node.
    publish_sha = get_store()._publish.sha
    for command in seen:
        name, *args = command.replace('"', "").split()
        name = name.upper()
        if name == "EVALSHA" and args[0] == publish_sha:
            assert args[1] == "0", command
        elif name == "MGET":
            assert all(arg.startswith("st:{") for arg in args), command
        elif name in {"EVALSHA", "EVAL"}:
            assert args[1] == "1", command  # numkeys
        elif name in {"DEL", "EXISTS"}:
            assert len(args) == 1, command
        elif name == "SET":  # a fan-out claim: SET key value NX PX ttl
            assert [a.upper() for a in args[2:4]] == ["NX", "PX"] and len(args) == 5, command
        elif name not in {"FLUSHDB", "SELECT"}:
            assert name in single_key, command
    # Fan-out (LPUSHX, claims), scripts and reads were all seen.
    assert {"EVALSHA", "LRANGE", "LPUSHX", "SET"} <= {c.replace('"', "").split()[0].upper() for c in seen}
