"""rebuild_timelines, recount_followers, fanout_status and feed_config's lifecycle knobs."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from feedsite.celery import app as celery_app
from graph.models import Account, Follow
from graph.services import follow_create, follow_delete
from ranking.models import RankingConfig
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import outbox_raw, timeline_raw
from timelines import tasks
from timelines.fanout.plan import FANOUT_QUEUE
from timelines.keys import timeline_key
from timelines.models import LIFECYCLE_FIELDS, FeedConfig
from timelines.store import COMPLETE

pytestmark = pytest.mark.django_db

DAY_MS = 86_400_000


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def network(run_commit_hooks):
    """Three readers following a push-mode friend; one of them also a pull-mode celebrity."""
    friend, celebrity = AccountFactory.create_batch(2)
    readers = AccountFactory.create_batch(3)
    for reader in readers:
        follow_create(follower=reader, followee=friend)
    follow_create(follower=readers[0], followee=celebrity)
    call_command("feed_config", account=celebrity.id, mode="pull")
    celebrity.refresh_from_db()
    with run_commit_hooks():
        pushed = [PostFactory(author=friend).id for _ in range(3)]
        pulled = PostFactory(author=celebrity).id
    return {"friend": friend, "celebrity": celebrity, "readers": readers, "pushed": pushed, "pulled": pulled}


def test_rebuild_timelines_repairs_a_damaged_timeline(network, redis_store):
    reader = network["readers"][0]
    Account.objects.filter(pk=reader.pk).update(last_feed_read_at=timezone.now() - timedelta(days=2))
    key = timeline_key(reader.id)
    redis_store.client.rpush(key, 999_999, COMPLETE)  # junk, not from PostgreSQL
    output = run("rebuild_timelines", "--user", str(reader.id))
    assert timeline_raw(redis_store, reader.id) == [*reversed(network["pushed"]), COMPLETE]
    assert outbox_raw(redis_store, network["celebrity"].id) == [network["pulled"], COMPLETE]
    assert "Rebuilt 1 timeline(s)" in output
    # Expires like any timeline: within inactive_days (7) of the last read, 2 days ago.
    assert (7 * 0.9 - 2) * DAY_MS - 60_000 < redis_store.client.pttl(key) <= 5 * DAY_MS
    # Safe to re-run: same result.
    run("rebuild_timelines", "--user", str(reader.id))
    assert timeline_raw(redis_store, reader.id) == [*reversed(network["pushed"]), COMPLETE]


def test_rebuild_timelines_all_and_active_days(network, redis_store):
    readers = network["readers"]
    Account.objects.filter(pk=readers[0].pk).update(last_feed_read_at=timezone.now())
    Account.objects.filter(pk=readers[1].pk).update(last_feed_read_at=timezone.now() - timedelta(days=10))
    output = run("rebuild_timelines", "--active-days", "3")
    assert "Rebuilt 1 timeline(s) and 1 outbox(es)" in output
    assert redis_store.client.exists(timeline_key(readers[0].id))
    assert not redis_store.client.exists(timeline_key(readers[1].id))

    redis_store.client.rpush(timeline_key(readers[2].id), 999_999, COMPLETE)  # junk, never read
    output = run("rebuild_timelines", "--all")
    total = Account.objects.count()
    # Only the reader within inactive_days (7) keeps a timeline; the others' are dropped.
    assert "Rebuilt 1 timeline(s) and 1 outbox(es)" in output
    assert f"dropped the timelines of {total - 1} reader(s) inactive for 7+ days" in output
    assert "timelines: " in output and "(100%)" in output  # progress lines
    assert timeline_raw(redis_store, readers[0].id) == [*reversed(network["pushed"]), COMPLETE]
    assert timeline_raw(redis_store, readers[1].id) == []
    assert timeline_raw(redis_store, readers[2].id) == []


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "exactly one of"),
        (["--all", "--active-days", "2"], "exactly one of"),
        (["--active-days", "0"], "at least 1"),
        (["--user", "987654"], "No account with id 987654"),
    ],
)
def test_rebuild_timelines_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_timelines", *args)


def test_recount_followers_repairs_counts_and_reruns_clean():
    author = AccountFactory()
    fans = bulk_followers(author, 4)
    Account.objects.filter(pk=author.pk).update(followers_count=99)
    Account.objects.filter(pk=fans[0].pk).update(following_count=0)
    output = run("recount_followers", "--batch-size", "2")
    assert "Fixed 2 account(s)" in output and str(author.id) in output
    author.refresh_from_db()
    fans[0].refresh_from_db()
    assert (author.followers_count, fans[0].following_count) == (4, 1)
    assert "Fixed 0 account(s)" in run("recount_followers")
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("recount_followers", "--batch-size", "0")


@pytest.mark.django_db(transaction=True)
def test_follower_counts_stay_exact_under_concurrent_follows_and_recounts():
    """Threads follow and unfollow one account at random while another recounts: at the end
    every count equals the number of edges."""
    star = AccountFactory()
    fans = AccountFactory.create_batch(12)
    errors: list[BaseException] = []

    def churn(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                fan = rng.choice(fans)
                if rng.random() < 0.6:
                    follow_create(follower=fan, followee=star)
                else:
                    follow_delete(follower=fan, followee=star)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def recount() -> None:
        try:
            for _ in range(10):
                call_command("recount_followers", stdout=StringIO())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=churn, args=(seed,)) for seed in range(4)]
    threads.append(threading.Thread(target=recount))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    star.refresh_from_db()
    assert star.followers_count == Follow.objects.filter(followee=star).count()
    for fan in fans:
        fan.refresh_from_db()
        assert fan.following_count == Follow.objects.filter(follower=fan).count()


def test_fanout_status_reports_queues_lag_and_throughput(warm_timelines, run_commit_hooks):
    author = AccountFactory()
    fans = bulk_followers(author, 3)
    warm_timelines(f.id for f in fans)
    with run_commit_hooks():
        PostFactory(author=author)  # eager fan-out: counted in this minute's throughput
    waiting = PostFactory(author=author)
    celery_app.conf.task_always_eager = False
    try:  # a real message in the broker's fanout queue, as a busy worker would leave it
        tasks.fanout_post.apply_async(args=[waiting.id], queue=FANOUT_QUEUE)
    finally:
        celery_app.conf.task_always_eager = True

    report = json.loads(run("fanout_status", "--json"))
    queues = {q["name"]: q for q in report["queues"]}
    assert queues["fanout"]["pending"] == 1 and 0 <= queues["fanout"]["oldest_seconds"] < 60
    assert queues["fanout_bulk"]["pending"] == 0 and queues["fanout_bulk"]["oldest_seconds"] is None
    assert report["in_flight"] == 0
    assert report["throughput"]["1m"] == {"posts": 1, "chunks": 1, "recipients": 3, "writes": 3}
    text = run("fanout_status")
    assert "fanout" in text and "oldest" in text and "1 min" in text and "writes/s" in text


def test_fanout_status_says_when_the_broker_is_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(CommandError, match="Cannot read the broker"):
        call_command("fanout_status")


def test_feed_config_shows_and_sets_every_knob():
    editable = {
        f.name
        for model in (FeedConfig, RankingConfig)  # ranked feeds' knobs have a row of their own
        for f in model._meta.get_fields()
        if getattr(f, "editable", False) and not f.primary_key
    }
    output = run("feed_config")
    for name in editable:  # every knob is shown
        assert name.replace("_", "-").replace("fanout-chunk-size", "chunk-size") in output, name
    run(
        "feed_config",
        "--inactive-days", "3",
        "--celebrity-demote-percent", "50",
        "--outbox-cache-ms", "0",
        "--rebuild-wait-ms", "100",
    )  # fmt: skip
    config = FeedConfig.load()
    assert [getattr(config, f) for f in LIFECYCLE_FIELDS] == [50, 3, 0, 100]
    assert FeedConfig.cached().inactive_days == 3  # this process sees its own change at once
    with pytest.raises(CommandError, match="--inactive-days"):
        call_command("feed_config", "--inactive-days", "0")
