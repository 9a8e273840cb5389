"""Feed lifecycle: inactive readers, timeline and outbox expiry, celebrity hysteresis."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

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
from timelines import local_cache
from timelines.feed import policy
from timelines.keys import outbox_key, timeline_key
from timelines.models import FeedConfig
from timelines.store import COMPLETE

pytestmark = pytest.mark.django_db

DAY_MS = 86_400_000


def read_at(account: Account, when) -> None:
    Account.objects.filter(pk=account.pk).update(last_feed_read_at=when)


@pytest.fixture
def latest_expiry(monkeypatch):
    """No jitter: every timeline gets the latest expiry the rule allows (jitter only shortens)."""
    monkeypatch.setattr(policy.random, "random", lambda: 0.0)


def test_timeline_ttl_ends_within_inactive_days_of_the_last_read(monkeypatch):
    config = FeedConfig(inactive_days=7)
    last_read = timezone.now() - timedelta(days=2)
    # Jitter moves the expiry earlier, never later: between 90% and 100% of the window.
    for jitter, days in ((0.0, 7), (0.999999, 6.3)):
        monkeypatch.setattr(policy.random, "random", lambda jitter=jitter: jitter)
        ttl = policy.timeline_ttl_ms(config, last_read=last_read)
        assert (days - 2) * DAY_MS - 60_000 < ttl <= (days - 2) * DAY_MS + 100
    # A reader past the window, or who never read, may not have a timeline at all.
    assert policy.timeline_ttl_ms(config, last_read=timezone.now() - timedelta(days=7, seconds=1)) <= 0
    assert policy.timeline_ttl_ms(config, last_read=None) <= 0


def test_feed_reads_keep_the_timeline_within_inactive_days_of_the_recorded_read(
    redis_store, client_for, latest_expiry
):
    call_command("feed_config", inactive_days=3)
    reader, friend = AccountFactory.create_batch(2)
    follow_create(follower=reader, followee=friend)
    post = PostFactory(author=friend)
    key = timeline_key(reader.id)
    assert feed_ids(client_for(reader)) == [post.id]  # stamped now, timeline built
    assert 3 * DAY_MS - 60_000 < redis_store.client.pttl(key) <= 3 * DAY_MS

    # Reads within the hour neither rewrite the stamp nor touch the expiry...
    read_at(reader, timezone.now() - timedelta(minutes=50))
    redis_store.client.pexpire(key, 60_000)
    assert feed_ids(client_for(reader)) == [post.id]
    assert redis_store.client.pttl(key) <= 60_000
    # ...and one that finds the timeline gone rebuilds it expiring 3 days after the recorded
    # read (50 minutes ago), not after this one.
    redis_store.client.delete(key)
    assert feed_ids(client_for(reader)) == [post.id]
    bound = 3 * DAY_MS - 50 * 60_000
    assert bound - 60_000 < redis_store.client.pttl(key) <= bound
    # A read an hour after the stamp writes a new one and extends the expiry from it.
    read_at(reader, timezone.now() - timedelta(hours=2))
    assert feed_ids(client_for(reader)) == [post.id]
    assert 3 * DAY_MS - 60_000 < redis_store.client.pttl(key) <= 3 * DAY_MS


def test_a_timeline_expires_inactive_days_after_the_last_read_and_fanout_never_recreates_it(
    redis_store, run_commit_hooks, client_for, latest_expiry
):
    """The property of issue 4 end to end, with Redis doing the expiring: fan-out writes the
    timeline while its reader is within ``inactive_days`` of their last read, not after."""
    call_command("feed_config", inactive_days=1)
    author = AccountFactory()
    (reader,) = bulk_followers(author, 1)
    read_at(reader, timezone.now() - timedelta(days=1) + timedelta(seconds=2))
    call_command("rebuild_timelines", "--user", str(reader.id), stdout=StringIO())  # built now
    key = timeline_key(reader.id)
    ttl = redis_store.client.pttl(key)
    assert 0 < ttl <= 2_000  # one day after the read, not one day after the rebuild
    with run_commit_hooks():
        first = PostFactory(author=author)
    assert timeline_raw(redis_store, reader.id) == [first.id, COMPLETE]  # still active: written

    time.sleep(ttl / 1000 + 0.05)
    assert not redis_store.client.exists(key)  # a day without reading: gone
    with run_commit_hooks():
        second = PostFactory(author=author)
    assert not redis_store.client.exists(key)  # fan-out (LPUSHX) does not bring it back

    # Back: the feed is rebuilt from PostgreSQL, with the post fan-out did not write.
    assert feed_ids(client_for(reader)) == [second.id, first.id]
    assert DAY_MS - 60_000 < redis_store.client.pttl(key) <= DAY_MS
    with run_commit_hooks():
        third = PostFactory(author=author)
    assert timeline_raw(redis_store, reader.id) == [third.id, second.id, first.id, COMPLETE]


def test_readers_without_a_timeline_cost_fanout_nothing_and_read_a_full_feed(
    redis_store, warm_timelines, run_commit_hooks, client_for
):
    author = AccountFactory()
    active, inactive, never = bulk_followers(author, 3)
    warm_timelines([active.id])
    read_at(inactive, timezone.now() - timedelta(days=8))  # their timeline expired long ago
    read_at(never, None)
    with run_commit_hooks():
        post = PostFactory(author=author)
    assert timeline_raw(redis_store, active.id) == [post.id, COMPLETE]
    assert timeline_raw(redis_store, inactive.id) == []
    assert timeline_raw(redis_store, never.id) == []
    assert feed_ids(client_for(inactive)) == [post.id]
    assert feed_ids(client_for(never)) == [post.id]
    inactive.refresh_from_db()
    assert timezone.now() - inactive.last_feed_read_at < timedelta(seconds=5)
    with run_commit_hooks():
        second = PostFactory(author=author)
    assert timeline_raw(redis_store, inactive.id)[:1] == [second.id]  # active again: written


def test_lowering_inactive_days_applies_to_expiries_set_from_then_on(
    redis_store, warm_timelines, run_commit_hooks, client_for, latest_expiry
):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])  # expires 7 days after this read
    key = timeline_key(follower.id)
    call_command("feed_config", inactive_days=2)
    assert redis_store.client.pttl(key) > 6 * DAY_MS  # an expiry set before is kept...
    read_at(follower, timezone.now() - timedelta(hours=2))
    feed_ids(client_for(follower))
    assert 2 * DAY_MS - 60_000 < redis_store.client.pttl(key) <= 2 * DAY_MS  # ...until the next stamp

    # A reader back after the new window whose timeline outlived it (its expiry was set under
    # the old one, and fan-out kept writing it) gets it dropped and rebuilt on their read.
    read_at(follower, timezone.now() - timedelta(days=3))
    redis_store.client.pexpire(key, 5 * DAY_MS)
    redis_store.client.rpush(key, 999_999)  # anything it holds is thrown away, not trusted
    with run_commit_hooks():
        post = PostFactory(author=author)
    assert feed_ids(client_for(follower)) == [post.id]
    assert timeline_raw(redis_store, follower.id) == [post.id, COMPLETE]


def test_outboxes_expire_after_the_inactivity_period(redis_store, run_commit_hooks, client_for):
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
    # An expired outbox (gone from Redis) is rebuilt on the next read.
    redis_store.client.delete(outbox_key(celebrity.id))
    local_cache.outboxes.clear()
    assert feed_ids(client_for(reader)) == [post.id]
    assert outbox_raw(redis_store, celebrity.id) == [post.id, COMPLETE]


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
