"""Fan-out state in PostgreSQL, the sweeper, degraded feeds without Redis, check_feeds, and the
JSON 503 / 413 middleware. The same behaviours under real faults (killed processes, stopped
servers) are in tests/faults/."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from feedsite.middleware import DatabaseUnavailableMiddleware
from graph.services import follow_create
from posts.models import FanoutState, Post
from posts.synthetic import posts_generate
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import assert_error, feed_ids, timeline_raw
from timelines import tasks
from timelines.fanout.ledger import fanout_chunk_sent, fanout_finish, fanout_sweep
from timelines.feed.page import feed_page
from timelines.keys import timeline_key
from timelines.models import FeedConfig, PendingChunk, StaleTimeline
from timelines.store import COMPLETE, TimelineStore
from timelines.views import DEGRADED_HEADER

pytestmark = pytest.mark.django_db


def pending_ids() -> set[int]:
    return set(Post.objects.filter(fanout_state=FanoutState.PENDING).values_list("id", flat=True))


def age(post: Post, seconds: int) -> None:
    Post.objects.filter(id=post.id).update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_post_is_pending_until_its_fanout_has_run(redis_store, warm_timelines, run_commit_hooks):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    stranded = PostFactory(author=author)  # its on_commit enqueue never ran: as if Redis was down
    with run_commit_hooks():
        delivered = PostFactory(author=author)
    assert pending_ids() == {stranded.id}
    assert timeline_raw(redis_store, follower.id) == [delivered.id, COMPLETE]


def test_sweeper_enqueues_stranded_posts_once_per_grace_period(redis_store, warm_timelines):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    old, recent = PostFactory(author=author), PostFactory(author=author)
    age(old, 120)

    out = StringIO()
    call_command("sweep_fanout", "--grace", "60", stdout=out)
    assert "Enqueued fan-out for 1 pending posts; dropped 0 stale timelines." in out.getvalue()
    assert pending_ids() == {recent.id}  # within its grace period: its own enqueue may be queued
    assert timeline_raw(redis_store, follower.id) == [old.id, COMPLETE]

    # A swept post that is still pending (its message was lost too) waits another grace period.
    Post.objects.filter(id=old.id).update(fanout_state=FanoutState.PENDING)
    assert fanout_sweep(older_than=timedelta(seconds=60)) == []
    Post.objects.filter(id=old.id).update(fanout_swept_at=timezone.now() - timedelta(seconds=61))
    assert fanout_sweep(older_than=timedelta(seconds=60)) == [old.id]
    # Replayed fan-out: still exactly once.
    assert timeline_raw(redis_store, follower.id) == [old.id, COMPLETE]


def test_deleted_and_pull_mode_posts_finish_too(redis_store):
    celebrity = AccountFactory(fanout_override="pull")
    pulled = PostFactory(author=celebrity)
    deleted = PostFactory(author=AccountFactory())
    Post.objects.filter(id=deleted.id).update(deleted_at=timezone.now())
    assert fanout_sweep(older_than=timedelta(0)) == [pulled.id, deleted.id]
    assert pending_ids() == set()


def test_sweep_fanout_refuses_bad_arguments():
    with pytest.raises(CommandError, match="--grace must be >= 0"):
        call_command("sweep_fanout", "--grace", "-1")


def test_feed_is_served_from_postgresql_when_redis_is_down(
    client_for, run_commit_hooks, redis_store, monkeypatch
):
    """The timeline store on a closed port: every command is refused, as when Redis is down
    (a real client and a real refused connection; nothing is mocked)."""
    viewer, author = AccountFactory(), AccountFactory()
    client_for(viewer).post(f"/api/accounts/{author.id}/follow/")
    with run_commit_hooks():
        posts = [PostFactory(author=author) for _ in range(5)]
    expected = [p.id for p in reversed(posts)]
    healthy = client_for(viewer).get("/api/feed/?limit=2")
    assert DEGRADED_HEADER not in healthy

    redis_store.client.delete(timeline_key(viewer.id))
    with monkeypatch.context() as patch:
        patch.setattr("timelines.store.get_store", dead_store)
        response = client_for(viewer).get("/api/feed/?limit=2")
        assert response.status_code == 200
        assert response[DEGRADED_HEADER] == "redis-unavailable"
        assert [p["id"] for p in response.json()["results"]] == expected[:2]
        assert feed_ids(client_for(viewer), limit=2) == expected  # cursors work the same
        # Posting and following still succeed; fan-out is left to the sweeper.
        created = client_for(author).post("/api/posts/", {"body": "while Redis is down"}, format="json")
        assert created.status_code == 201
        assert client_for(AccountFactory()).post(f"/api/accounts/{author.id}/follow/").status_code == 201
    assert timeline_raw(redis_store, viewer.id) == []  # nothing was cached meanwhile


def dead_store() -> TimelineStore:
    return TimelineStore(redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0)))


def test_a_timeline_that_missed_a_follow_backfill_is_rebuilt_when_redis_returns(
    client_for, redis_store, warm_timelines, monkeypatch, run_commit_hooks
):
    viewer, author = AccountFactory(), AccountFactory()
    with run_commit_hooks():
        post = PostFactory(author=author)
    warm_timelines([viewer.id])
    with monkeypatch.context() as patch, run_commit_hooks():
        patch.setattr("timelines.store.get_store", dead_store)
        follow_create(follower=viewer, followee=author)  # the backfill fails after commit
    assert list(StaleTimeline.objects.values_list("user_id", flat=True)) == [viewer.id]
    assert timeline_raw(redis_store, viewer.id) == [COMPLETE]  # it missed the author's post

    out = StringIO()
    call_command("sweep_fanout", stdout=out)
    assert "dropped 1 stale timelines" in out.getvalue()
    assert feed_ids(client_for(viewer)) == [post.id]  # rebuilt from PostgreSQL
    assert not StaleTimeline.objects.exists()


def test_a_fanout_task_that_gives_up_leaves_the_post_to_the_sweeper(redis_store, monkeypatch):
    post = PostFactory(author=AccountFactory())
    fanout_finish(post_id=post.id)
    monkeypatch.setattr("timelines.store.get_store", dead_store)
    max_retries = tasks.RETRY_POLICY["max_retries"]
    result = tasks.fanout_chunk.apply(args=[post.id, [1], 800], retries=max_retries, throw=False)
    assert isinstance(result.result, redis.exceptions.ConnectionError)
    assert pending_ids() == {post.id}


def test_check_feeds_is_clean_for_correct_feeds(client_for, run_commit_hooks):
    author = AccountFactory()
    followers = bulk_followers(author, 3)
    with run_commit_hooks():
        PostFactory.create_batch(3, author=author)
    out = StringIO()
    call_command("check_feeds", "--sample", "10", stdout=out, stderr=StringIO())
    assert "4 feeds checked (newest 200 posts each): 0 with problems" in out.getvalue()
    assert followers


def test_check_feeds_reports_missing_posts(redis_store, warm_timelines, run_commit_hooks):
    author, stranger = AccountFactory(), AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    with run_commit_hooks():
        kept, lost = PostFactory(author=author), PostFactory(author=author)
        foreign = PostFactory(author=stranger)
    # A timeline that lost a post and gained one that is not the follower's business (the
    # read filter hides that one, so readers never see extras unless that filter breaks).
    redis_store.remove(key=timeline_key(follower.id), post_ids=[lost.id])
    redis_store.insert(key=timeline_key(follower.id), post_ids=[foreign.id], cap=800)
    out = StringIO()
    with pytest.raises(CommandError, match="1 with problems; 1 missing, 0 extra") as error:
        call_command("check_feeds", "--sample", "0", "--user", str(follower.id), stdout=out)
    assert error.value.returncode == 1
    assert f"user {follower.id}: missing [{lost.id}], extra []" in out.getvalue()
    assert [p.id for p in feed_page(viewer=follower, before_id=None, limit=5).posts] == [kept.id]


def test_database_errors_are_a_json_503_with_retry_after():
    def view(request):
        raise OperationalError("connection refused")

    response = DatabaseUnavailableMiddleware(view)(RequestFactory().get("/api/feed/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content) == {"detail": "The database is unavailable. Try again shortly."}


def test_oversized_bodies_are_a_json_413(client_for):
    response = client_for(AccountFactory()).post("/api/posts/", {"body": "x" * 70_000}, format="json")
    assert_error(response, 413)
    assert not Post.objects.exists()


def test_the_beat_task_sweeps_like_the_command(redis_store, warm_timelines, settings):
    settings.FANOUT_SWEEP_GRACE_SECONDS = 30
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    stranded = PostFactory(author=author)
    age(stranded, 31)
    assert tasks.sweep_fanout.apply().get() == 1
    assert timeline_raw(redis_store, follower.id) == [stranded.id, COMPLETE]
    assert pending_ids() == set()


def test_bulk_loaded_posts_are_not_taken_for_stranded_ones():
    authors = [AccountFactory().id for _ in range(3)]
    assert posts_generate(author_ids=authors, seed=1, posts_per_user=2).ids
    assert pending_ids() == set()


def test_a_chunk_whose_message_was_lost_is_sent_again_by_the_sweeper(redis_store, warm_timelines):
    config = FeedConfig.load()
    config.fanout_chunk_size = 2
    config.save()
    author = AccountFactory()
    followers = [f.id for f in bulk_followers(author, 5)]
    warm_timelines(followers)
    post = PostFactory(author=author)
    assert tasks.fanout_post.apply(args=[post.id]).get() == 2  # two chunk tasks, run eagerly
    assert not PendingChunk.objects.exists()  # each chunk cleared its row once written

    # A chunk whose message the broker lost with its worker: recorded, never written.
    lost = followers[2:4]
    for user_id in lost:
        redis_store.remove(key=timeline_key(user_id), post_ids=[post.id])
    fanout_chunk_sent(post_id=post.id, user_ids=lost, queue="fanout")
    fanout_chunk_sent(post_id=post.id, user_ids=lost, queue="fanout")  # a re-run fan-out
    assert list(PendingChunk.objects.values_list("user_ids", flat=True)) == [lost]  # recorded once
    assert fanout_sweep(older_than=timedelta(seconds=60)) == []
    assert PendingChunk.objects.count() == 1  # within its grace period: left alone
    PendingChunk.objects.update(sent_at=timezone.now() - timedelta(seconds=61))
    fanout_sweep(older_than=timedelta(seconds=60))
    assert not PendingChunk.objects.exists()
    assert all(timeline_raw(redis_store, u) == [post.id, COMPLETE] for u in followers)
