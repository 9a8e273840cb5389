"""Read-replica routing (feedsite.db_router). The test database serves the `replica` alias
too (TEST MIRROR) but through a connection of its own, so the routing is observable per
alias, and rows the test has not committed are invisible there, like a lagging replica."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import feed_ids
from timelines import tasks
from timelines.fanout.plan import ReplicaBehind, replica_has_post
from timelines.fanout.push import fanout_start

BOTH = ["default", "replica"]


@pytest.fixture
def replica(settings) -> None:
    settings.READ_REPLICA = "replica"


def follow_queries(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "graph_follow" in q["sql"]]


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_fanout_reads_follower_lists_from_the_replica(replica, warm_timelines, client_for, run_commit_hooks):
    author = AccountFactory()
    followers = bulk_followers(author, 5)
    warm_timelines(f.id for f in followers)
    post = PostFactory(author=author)  # committed: the replica sees it
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        plan = fanout_start(post_id=post.id)
        batches = list(plan.follower_batches)
    assert sorted(u for batch in batches for u in batch) == sorted(f.id for f in followers)
    assert len(follow_queries(on_replica)) == 1  # the follower list, and only it
    assert "posts_post" in on_replica.captured_queries[0]["sql"]  # "has it replayed the post?"
    assert follow_queries(on_default) == []

    # Everything else, including the feed read that must see your own writes, stays on default.
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        with run_commit_hooks():
            client_for(followers[0]).delete(f"/api/accounts/{author.id}/follow/")
        assert post.id not in feed_ids(client_for(followers[0]))
    assert on_replica.captured_queries == []


@pytest.mark.django_db(databases=BOTH)
def test_fanout_waits_for_a_replica_that_has_not_replayed_the_post(replica):
    author = AccountFactory()
    bulk_followers(author, 2)
    post = PostFactory(author=author)  # uncommitted: the replica cannot see it yet
    with pytest.raises(ReplicaBehind):
        fanout_start(post_id=post.id)
    assert ReplicaBehind in tasks.fanout_post.autoretry_for  # retried with backoff


@pytest.mark.django_db(databases=BOTH)
def test_without_a_replica_everything_reads_default():
    author = AccountFactory()
    bulk_followers(author, 2)
    post = PostFactory(author=author)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert replica_has_post(post_id=post.id)
        plan = fanout_start(post_id=post.id)
        assert [len(batch) for batch in plan.follower_batches] == [2]
    assert on_replica.captured_queries == []
