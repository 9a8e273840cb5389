"""Feed lifecycle: inactive readers, timeline and outbox expiry, celebrity hysteresis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graph.models import Account
from graph.services import follow_create, follow_delete
from posts.models import Delivery, Post
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import feed_ids, outbox_raw, timeline_raw
from timelines import local_cache, selectors, services
from timelines.models import FeedConfig
from timelines.store import COMPLETE, outbox_key, timeline_key

pytestmark = pytest.mark.django_db

DAY_MS = 86_400_000


def read_at(account: Account, when) -> None:
    Account.objects.filter(pk=account.pk).update(last_feed_read_at=when)


def test_fanout_skips_inactive_readers_whose_next_read_rebuilds(
    redis_store, warm_timelines, run_commit_hooks, client_for
):
    author = AccountFactory()
    active, inactive, never = bulk_followers(author, 3)
    warm_timelines([active.id, inactive.id, never.id])  # all three have a timeline in Redis
    read_at(inactive, timezone.now() - timedelta(days=8))
    Account.objects.filter(pk=never.pk).update(last_feed_read_at=None)

    # The follower query itself leaves the inactive ones out: their ids are never sent.
    since = services.fanout_active_since(FeedConfig.load())
    batches = list(selectors.follower_id_batches(author_id=author.id, batch_size=10, active_since=since))
    assert batches == [[active.id]]

    with run_commit_hooks():
        post = PostFactory(author=author)
    assert timeline_raw(redis_store, active.id) == [post.id, COMPLETE]
    assert timeline_raw(redis_store, inactive.id) == [COMPLETE]  # stale: fan-out skipped it
    assert timeline_raw(redis_store, never.id) == [COMPLETE]

    # Back after a week: the stale timeline is dropped and rebuilt from PostgreSQL.
    assert feed_ids(client_for(inactive)) == [post.id]
    assert feed_ids(client_for(never)) == [post.id]
    inactive.refresh_from_db()
    assert timezone.now() - inactive.last_feed_read_at < timedelta(seconds=5)
    # Active again: the next post is pushed to them.
    with run_commit_hooks():
        second = PostFactory(author=author)
    assert timeline_raw(redis_store, inactive.id)[:1] == [second.id]


def test_inactive_days_knob_applies_to_the_next_fanout(redis_store, warm_timelines, run_commit_hooks):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    read_at(follower, timezone.now() - timedelta(days=3))
    with run_commit_hooks():
        first = PostFactory(author=author)
    assert timeline_raw(redis_store, follower.id) == [first.id, COMPLETE]  # 3 days < 7
    call_command("feed_config", inactive_days=2)
    with run_commit_hooks():
        PostFactory(author=author)
    assert timeline_raw(redis_store, follower.id) == [first.id, COMPLETE]  # 3 days > 2 (+1 h slack)


def test_timelines_and_outboxes_expire_after_the_inactivity_period(redis_store, run_commit_hooks, client_for):
    call_command("feed_config", celebrity_threshold=1, inactive_days=3)
    reader, celebrity = AccountFactory.create_batch(2)
    follow_create(follower=reader, followee=celebrity)
    celebrity.refresh_from_db()
    with run_commit_hooks():
        post = PostFactory(author=celebrity)
    assert post.delivery == Delivery.PULL
    outbox_ttl = redis_store.client.pttl(outbox_key(celebrity.id))
    assert 3 * DAY_MS * 0.99 < outbox_ttl <= 3 * DAY_MS * 1.1  # jittered, up to +10%

    assert feed_ids(client_for(reader)) == [post.id]
    ttl = redis_store.client.pttl(timeline_key(reader.id))
    assert 3 * DAY_MS < ttl <= (3 * DAY_MS + 3_600_000) * 1.1

    # Reads within the hour neither rewrite the stamp nor touch the expiry; a read an hour
    # later does both.
    redis_store.client.pexpire(timeline_key(reader.id), 60_000)
    feed_ids(client_for(reader))
    assert redis_store.client.pttl(timeline_key(reader.id)) <= 60_000
    read_at(reader, timezone.now() - timedelta(hours=2))
    feed_ids(client_for(reader))
    assert redis_store.client.pttl(timeline_key(reader.id)) > 3 * DAY_MS
    # An expired timeline (gone from Redis) is rebuilt on the next read.
    redis_store.client.delete(timeline_key(reader.id))
    assert feed_ids(client_for(reader)) == [post.id]


def test_a_reader_stamp_costs_one_update_an_hour(client_for, steady_config):
    reader, friend = AccountFactory.create_batch(2)
    follow_create(follower=reader, followee=friend)
    PostFactory(author=friend)
    client = client_for(reader)
    feed_ids(client)  # first read: stamp and timeline written

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/feed/").status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    usual = queries()
    assert not any(sql.startswith("UPDATE") for sql in usual)  # within the hour: no UPDATE
    read_at(reader, timezone.now() - timedelta(minutes=61))
    later = queries()
    assert len(later) == len(usual) + 1
    (update,) = [sql for sql in later if sql.startswith("UPDATE")]
    assert update.startswith('UPDATE "graph_account" SET "last_feed_read_at"')


# -- celebrity hysteresis ---------------------------------------------------------------------


@pytest.fixture
def near_the_line():
    """Threshold 10, demotion below 8 (80%): an author and a pool of would-be followers."""
    call_command("feed_config", celebrity_threshold=10, celebrity_demote_percent=80)
    author = AccountFactory()
    pool = AccountFactory.create_batch(12)
    return author, pool


def set_followers(author: Account, pool: list[Account], count: int) -> None:
    current = set(author.follower_edges.values_list("follower_id", flat=True))
    for index, account in enumerate(pool):
        if index < count and account.id not in current:
            follow_create(follower=account, followee=author)
        elif index >= count and account.id in current:
            follow_delete(follower=account, followee=author)
    author.refresh_from_db()
    assert author.followers_count == count


def test_mode_is_sticky_between_the_bounds(near_the_line):
    author, pool = near_the_line
    modes = []
    for count in (9, 10, 9, 8, 9, 10, 7, 9, 8, 10, 9):
        set_followers(author, pool, count)
        modes.append(PostFactory(author=author).delivery)
    # Promoted at 10, kept through 9 and 8, demoted at 7, kept push through 9 and 8.
    assert modes == [
        "push", "pull", "pull", "pull", "pull", "pull", "push", "push", "push", "pull", "pull"
    ]  # fmt: skip
    author.refresh_from_db()
    assert author.celebrity is True


def test_flapping_near_the_line_never_loses_or_duplicates_a_post(
    near_the_line, redis_store, run_commit_hooks, client_for
):
    """Followers of every kind (reading often, cold, leaving and coming back, new) see each
    of the author's posts exactly once, across promotions and demotions, and after their
    timelines and the outbox are rebuilt from scratch."""
    author, pool = near_the_line
    posts: list[Post] = []
    for step, count in enumerate((9, 10, 8, 7, 10, 12, 7, 11, 6, 10)):
        with run_commit_hooks():
            set_followers(author, pool, count)
            posts.append(PostFactory(author=author))
            posts.append(PostFactory(author=author))
        followers = pool[:count]
        expected = sorted((p.id for p in posts), reverse=True)
        # A few readers read at every step; the others only now and then (cold timelines).
        readers = followers[:3] if step % 3 else followers
        for reader in readers:
            assert feed_ids(client_for(reader)) == expected, (step, reader.id)
    assert {p.delivery for p in posts} == {Delivery.PUSH, Delivery.PULL}

    redis_store.client.flushdb()  # everything rebuilt from PostgreSQL...
    local_cache.outboxes.clear()  # ...by a process without a copy of the outbox
    for reader in pool[:10]:
        assert feed_ids(client_for(reader)) == expected
    assert outbox_raw(redis_store, author.id)[-1] == COMPLETE
