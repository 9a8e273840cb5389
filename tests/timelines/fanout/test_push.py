"""The write path: signal -> on_commit -> fan-out task -> chunk tasks -> Redis lists."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from graph.models import Follow
from posts.models import Delivery
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import outbox_raw, timeline_raw
from timelines import tasks
from timelines.keys import chunk_digest, fanout_claim_key, timeline_key
from timelines.models import FeedConfig, PendingChunk
from timelines.store import COMPLETE, get_store, trim_slack

pytestmark = [pytest.mark.django_db, pytest.mark.also_cluster]


def test_post_is_fanned_out_across_several_chunks(redis_store, warm_timelines, run_commit_hooks):
    author = AccountFactory()
    followers = bulk_followers(author, 2500)
    warm_timelines([f.id for f in followers] + [author.id])
    assert FeedConfig.load().fanout_chunk_size == 10_000  # the default (migration 0009)
    call_command("feed_config", chunk_size=1000)

    with run_commit_hooks():
        post = PostFactory(author=author)

    assert post.delivery == Delivery.PUSH
    for account in [*followers, author]:
        assert timeline_raw(redis_store, account.id) == [post.id, COMPLETE]
    # The same fan-out, replayed (a redelivered task): the first of three batches inline, two
    # chunk tasks, no duplicates.
    assert tasks.fanout_post.apply(args=[post.id]).get() == 2
    assert all(timeline_raw(redis_store, f.id) == [post.id, COMPLETE] for f in followers)


@pytest.mark.parametrize("followers", [7, 11])
def test_fanout_queries_do_not_grow_with_followers(
    redis_store, warm_timelines, django_assert_num_queries, followers
):
    """The post, the config row, one page of follower ids, then per chunk task one INSERT
    (before it is sent) and one DELETE (once written), and the post marked done. Nothing per
    follower: with chunks of 2, 7 followers make 3 chunk tasks and 11 make 5."""
    call_command("feed_config", chunk_size=2)
    author = AccountFactory()
    ids = [f.id for f in bulk_followers(author, followers)]
    warm_timelines(ids)
    post = PostFactory(author=author)  # no commit hooks: fan-out is driven by hand below
    chunks = (followers + 1) // 2 - 1  # the first batch is pushed by fanout_post itself
    with django_assert_num_queries(4 + 2 * chunks):
        assert tasks.fanout_post.apply(args=[post.id]).get() == chunks  # chunk tasks run eagerly
    assert all(timeline_raw(redis_store, i) == [post.id, COMPLETE] for i in ids)
    assert not PendingChunk.objects.exists()


def test_chunk_replay_never_duplicates(redis_store, warm_timelines):
    author = AccountFactory()
    followers = bulk_followers(author, 30)
    warm_timelines(f.id for f in followers)
    post = PostFactory(author=author)  # no commit hooks: fan-out is driven by hand below
    ids = [f.id for f in followers]

    assert tasks.fanout_chunk.apply(args=[post.id, ids, 800]).get() == 30
    assert tasks.fanout_chunk.apply(args=[post.id, ids, 800]).get() == 0
    assert {tuple(timeline_raw(redis_store, i)) for i in ids} == {(post.id, COMPLETE)}


def test_chunk_redelivered_after_dying_mid_way_never_duplicates(redis_store, warm_timelines):
    """A worker killed mid-chunk leaves the chunk claimed and half pushed; the redelivered
    task sees the claim and deduplicates."""
    author = AccountFactory()
    ids = [f.id for f in bulk_followers(author, 40)]
    warm_timelines(ids)
    post = PostFactory(author=author)
    store = get_store()
    assert store.claim(key=fanout_claim_key(post_id=post.id, digest=chunk_digest(ids)))
    assert store.push(keys=[timeline_key(i) for i in ids[:25]], post_id=post.id, cap=800) == 25

    assert tasks.fanout_chunk.apply(args=[post.id, ids, 800]).get() == 15
    assert {tuple(timeline_raw(redis_store, i)) for i in ids} == {(post.id, COMPLETE)}


def test_rerun_fanout_with_shifted_chunks_never_duplicates(redis_store, warm_timelines, run_commit_hooks):
    """A fan-out run again after the follower list changed cuts different chunks, whose
    claims are new: the post-level claim makes all of them deduplicate."""
    call_command("feed_config", chunk_size=10)
    author = AccountFactory()
    followers = bulk_followers(author, 35)
    warm_timelines(f.id for f in followers)
    with run_commit_hooks():
        post = PostFactory(author=author)
    Follow.objects.filter(follower=followers[3], followee=author).delete()  # shifts later chunks
    assert tasks.fanout_post.apply(args=[post.id]).get() == 3  # 4 batches, the first inline
    assert all(timeline_raw(redis_store, f.id) == [post.id, COMPLETE] for f in followers)
    # A chunk flagged as a replay deduplicates even with a fresh claim.
    ids = [f.id for f in followers[:5]]
    assert tasks.fanout_chunk.apply(args=[post.id, ids, 800, True]).get() == 0


def test_fanout_skips_users_without_a_built_timeline(redis_store, warm_timelines, run_commit_hooks):
    author = AccountFactory()
    active, inactive = bulk_followers(author, 2)
    warm_timelines([active.id])
    with run_commit_hooks():
        post = PostFactory(author=author)
    assert timeline_raw(redis_store, active.id) == [post.id, COMPLETE]
    assert timeline_raw(redis_store, inactive.id) == []  # built from PostgreSQL when read


def test_timeline_is_trimmed_to_configured_length(redis_store, warm_timelines, run_commit_hooks):
    """Fan-out trims lazily: a list may grow trim_slack(cap) past its cap, then it is cut back
    to exactly the newest ``cap`` ids."""
    call_command("feed_config", timeline_length=20)
    limit = 20 + trim_slack(20)
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    posts = []
    for _ in range(limit + 5):
        with run_commit_hooks():
            posts.append(PostFactory(author=author))
        raw = timeline_raw(redis_store, follower.id)
        assert len(raw) <= limit, len(raw)
        newest_first = [p.id for p in reversed(posts)]
        if len(posts) == limit - 1:  # full up to the slack, marker included
            assert raw == [*newest_first, COMPLETE]
        if len(posts) == limit:  # one more: cut back to the cap, no longer complete
            assert raw == newest_first[:20]
    assert timeline_raw(redis_store, follower.id) == [p.id for p in reversed(posts)][:25]
    assert redis_store.read(timeline_key(follower.id)).ids == [p.id for p in reversed(posts)][:25]


def test_pull_mode_post_writes_no_timeline(redis_store, warm_timelines, run_commit_hooks, client_for):
    call_command("feed_config", celebrity_threshold=3)
    celebrity = AccountFactory()
    fans = bulk_followers(celebrity, 3)
    warm_timelines(f.id for f in fans)
    before = {f.id: timeline_raw(redis_store, f.id) for f in fans}

    with run_commit_hooks():
        post = PostFactory(author=celebrity)

    assert post.delivery == Delivery.PULL
    assert {f.id: timeline_raw(redis_store, f.id) for f in fans} == before
    assert timeline_raw(redis_store, celebrity.id) == []
    # The cold outbox was built from PostgreSQL by the worker, not by the first reader.
    assert outbox_raw(redis_store, celebrity.id) == [post.id, COMPLETE]
    assert client_for(fans[0]).get("/api/feed/").json()["results"][0]["id"] == post.id
    with run_commit_hooks():
        second = PostFactory(author=celebrity)
    assert outbox_raw(redis_store, celebrity.id) == [second.id, post.id, COMPLETE]
    assert {f.id: timeline_raw(redis_store, f.id) for f in fans} == before
    own_feed = client_for(celebrity).get("/api/feed/").json()["results"]
    assert [p["id"] for p in own_feed] == [second.id, post.id]


def test_threshold_change_applies_to_the_next_post(run_commit_hooks):
    author = AccountFactory()
    bulk_followers(author, 5)
    assert PostFactory(author=author).delivery == Delivery.PUSH
    call_command("feed_config", celebrity_threshold=5)
    assert PostFactory(author=author).delivery == Delivery.PULL
    # Back to push only below the demotion bound (hysteresis): 80% of 8 is 6 > 5 followers.
    call_command("feed_config", celebrity_threshold=8)
    assert PostFactory(author=author).delivery == Delivery.PUSH


def test_forced_mode_overrides_threshold():
    author = AccountFactory()
    call_command("feed_config", account=author.id, mode="pull")
    author.refresh_from_db()
    assert PostFactory(author=author).delivery == Delivery.PULL
    call_command("feed_config", account=author.id, mode="auto")
    call_command("feed_config", celebrity_threshold=1)
    bulk_followers(author, 1)
    call_command("feed_config", account=author.id, mode="push")
    author.refresh_from_db()
    assert PostFactory(author=author).delivery == Delivery.PUSH


def test_fanout_is_enqueued_only_after_commit(django_capture_on_commit_callbacks):
    author = AccountFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                PostFactory(author=author)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        PostFactory(author=author)
    assert len(callbacks) == 1


def test_stale_fanout_of_deleted_or_missing_post_is_a_quiet_noop(redis_store, warm_timelines):
    author = AccountFactory()
    (follower,) = bulk_followers(author, 1)
    warm_timelines([follower.id])
    post = PostFactory(author=author)
    post.delete()
    assert tasks.fanout_post.apply(args=[post.id]).get() == 0
    assert tasks.fanout_post.apply(args=[10**12]).get() == 0
    assert timeline_raw(redis_store, follower.id) == [COMPLETE]
