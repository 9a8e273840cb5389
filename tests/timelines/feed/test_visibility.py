"""The PostgreSQL-only feed (rebuilds, deep scroll): both query plans give the same answer."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from graph.models import Block, Follow, Mute
from graph.services import block_create, follow_create, mute_create
from posts.models import Delivery, Post
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory, bulk_followers
from timelines.fanout.plan import follower_id_batches
from timelines.feed.visibility import feed_post_ids_from_db

pytestmark = pytest.mark.django_db


@pytest.fixture
def random_network():
    rng = random.Random(7)
    accounts = AccountFactory.create_batch(25)
    viewer = accounts[0]
    for account in accounts:
        for other in rng.sample(accounts, 8):
            if other != account:
                follow_create(follower=account, followee=other)
    for other in accounts[1:4]:
        follow_create(follower=viewer, followee=other)
    mute_create(muter=viewer, muted=accounts[1])
    block_create(blocker=accounts[2], blocked=viewer)
    call_command("feed_config", account=accounts[3].id, mode="pull")
    for _ in range(300):
        author = rng.choice(accounts)
        author.refresh_from_db()
        post = PostFactory(author=author)
        if rng.random() < 0.1:
            post_delete(post=post, actor=author)
    return viewer


def expected_ids(viewer, *, before_id=None, delivery=None, limit):
    """The definition, in plain Python over all rows."""
    followees = set(Follow.objects.filter(follower=viewer).values_list("followee_id", flat=True))
    hidden = set(Mute.objects.filter(muter=viewer).values_list("muted_id", flat=True))
    hidden |= set(Block.objects.filter(blocker=viewer).values_list("blocked_id", flat=True))
    hidden |= set(Block.objects.filter(blocked=viewer).values_list("blocker_id", flat=True))
    ids = [
        p.id
        for p in Post.objects.order_by("-id")
        if p.deleted_at is None
        and (p.author_id == viewer.id or p.author_id in followees)
        and p.author_id not in hidden
        and (before_id is None or p.id < before_id)
        and (delivery is None or p.delivery == delivery)
    ]
    return ids[:limit]


@pytest.mark.parametrize("plan_limit", [0, 10_000], ids=["newest-first-walk", "per-author"])
@pytest.mark.parametrize("delivery", [None, Delivery.PUSH])
def test_both_plans_match_the_definition(random_network, monkeypatch, plan_limit, delivery):
    monkeypatch.setattr("timelines.feed.visibility.PER_AUTHOR_SCAN_MAX_FOLLOWEES", plan_limit)
    viewer = random_network
    newest = expected_ids(viewer, limit=1000)
    assert len(newest) > 30  # the network gives the viewer a real feed
    for before_id in (None, newest[5], newest[len(newest) // 2], newest[-1]):
        for limit in (1, 7, 500):
            got = feed_post_ids_from_db(
                viewer_id=viewer.id, before_id=before_id, limit=limit, delivery=delivery
            )
            assert got == expected_ids(viewer, before_id=before_id, delivery=delivery, limit=limit)
            forced = feed_post_ids_from_db(  # the same plan, asked for by name
                viewer_id=viewer.id,
                before_id=before_id,
                limit=limit,
                delivery=delivery,
                following_count=20_000 if plan_limit else 0,  # alone, would pick the other plan
                per_author=plan_limit > 0,
            )
            assert forced == got


@pytest.mark.parametrize(("page", "batch"), [(10, 3), (4, 4), (11, 5), (10_000, 1000)])
def test_follower_id_batches_cover_every_follower_once(monkeypatch, page, batch):
    author = AccountFactory()
    followers = [f.id for f in bulk_followers(author, 23)]
    Follow.objects.filter(follower_id=followers[5]).delete()  # a gap in the edge ids
    monkeypatch.setattr("timelines.fanout.plan.FOLLOWER_PAGE", page)
    batches = list(follower_id_batches(author_id=author.id, batch_size=batch))
    assert [i for b in batches for i in b] == followers[:5] + followers[6:]
    assert all(len(b) <= batch for b in batches) and all(batches)
