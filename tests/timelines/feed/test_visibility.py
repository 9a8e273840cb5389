"""The PostgreSQL-only feed (rebuilds, deep scroll): every plan, and every path of the chosen
one, gives the answer of a plain-Python definition."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from graph.models import Block, Follow, Mute
from graph.services import block_create, follow_create, mute_create
from posts.models import Delivery, Post
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory, bulk_followers
from timelines.fanout.plan import follower_id_batches
from timelines.feed import visibility
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


@pytest.fixture
def sparse_network():
    """A viewer of 30 accounts among 60: a few busy, most quiet (posting only early on), some
    deleting most of what they post, one in pull mode, one muted, one blocking the viewer. The
    chosen plan's floors and passes fall in different places here than in random_network."""
    rng = random.Random(14)
    accounts = AccountFactory.create_batch(60)
    viewer, followees = accounts[0], accounts[1:31]
    for other in followees:
        follow_create(follower=viewer, followee=other)
    mute_create(muter=viewer, muted=followees[0])
    block_create(blocker=followees[1], blocked=viewer)
    call_command("feed_config", account=followees[2].id, mode="pull")
    # Busy accounts: two deleting most of their posts, one in pull mode (muted and blocking
    # ones too): their posts fill a thin sample but not the feed, so passes come up short.
    busy, deleting = set(followees[:8]), set(followees[3:5])
    for step in range(400):
        if step < 150:
            author = rng.choice(accounts)  # early on: everyone, quiet accounts included
        elif rng.random() < 0.7:
            author = rng.choice(sorted(busy, key=lambda a: a.id))
        else:
            author = rng.choice(accounts[31:])  # accounts the viewer does not follow
        author.refresh_from_db()
        post = PostFactory(author=author)
        if (author in deleting and rng.random() < 0.8) or rng.random() < 0.05:
            post_delete(post=post, actor=author)
    return viewer


# The chosen plan's knobs (WALK_SCAN_PER_AUTHOR, SAMPLE_FACTOR, BOUNDED_PASSES, WALK_ON_BUDGET),
# set so that each of its paths answers in turn: the bounded walk, a short walk that walks on
# (its yield said the rest is near), bounded per-author passes (a thin
# sample gives high floors and several passes), the unbounded pass after them, and alone.
CHOSEN_PATHS = {
    "bounded-walk": (1_000, 2, 3, 0),
    "walk-on": (1_000, 2, 3, 1_000),
    "bounded-per-author": (0, 2, 3, 0),
    "thin-sample-passes": (0, 1, 3, 0),
    "then-unbounded": (0, 1, 1, 0),
    "unbounded-only": (0, 2, 0, 0),
}
PLANS = ["walk", "per-author", *(f"chosen:{name}" for name in CHOSEN_PATHS)]


def use_plan(monkeypatch, plan: str) -> dict:
    """Set up ``plan``; returns the extra arguments of feed_post_ids_from_db that pick it."""
    if plan in ("walk", "per-author"):
        return {"per_author": plan == "per-author"}
    walk, sample, passes, walk_on = CHOSEN_PATHS[plan.removeprefix("chosen:")]
    monkeypatch.setattr("timelines.feed.visibility.WALK_SCAN_PER_AUTHOR", walk)
    monkeypatch.setattr("timelines.feed.visibility.WALK_ON_BUDGET", walk_on)
    monkeypatch.setattr("timelines.feed.visibility.SAMPLE_FACTOR", sample)
    monkeypatch.setattr("timelines.feed.visibility.BOUNDED_PASSES", passes)
    return {}


@pytest.mark.parametrize("world", ["random_network", "sparse_network"])
@pytest.mark.parametrize("delivery", [None, Delivery.PUSH])
def test_every_plan_matches_the_definition(request, world, delivery):
    viewer = request.getfixturevalue(world)
    newest = expected_ids(viewer, limit=1000)
    assert len(newest) > 30  # the network gives the viewer a real feed
    for plan in PLANS:
        with pytest.MonkeyPatch.context() as monkeypatch:
            forced = use_plan(monkeypatch, plan)
            for before_id in (None, newest[5], newest[len(newest) // 2], newest[-1]):
                for limit in (1, 5, 20, 500):
                    expected = expected_ids(viewer, before_id=before_id, delivery=delivery, limit=limit)
                    for following_count in (None, 0, 20_000):  # it only sizes the plans
                        got = feed_post_ids_from_db(
                            viewer_id=viewer.id,
                            before_id=before_id,
                            limit=limit,
                            delivery=delivery,
                            following_count=following_count,
                            **forced,
                        )
                        assert got == expected, (plan, before_id, limit, following_count)


def statements_run(viewer, **kwargs) -> list[str]:
    """Which of the plans' statements feed_post_ids_from_db ran, in order."""
    names = {
        visibility._WALK_SQL: "walk",
        visibility._BOUNDED_PER_AUTHOR_SQL: "bounded",
        visibility._PER_AUTHOR_FEED_SQL: "per-author",
    }
    with CaptureQueriesContext(connection) as queries:
        feed_post_ids_from_db(viewer_id=viewer.id, following_count=viewer.following_count, **kwargs)
    ran = []
    for query in queries.captured_queries:
        name = next((n for sql, n in names.items() if sql.split("%(")[0].strip() in query["sql"]), None)
        ran.append(name or query["sql"][:40])
    return ran


@pytest.mark.parametrize(
    ("plan", "limit", "path"),
    [
        ("chosen:bounded-walk", 7, ["walk"]),
        ("chosen:bounded-walk", 500, ["walk", "bounded"]),  # the walk came up short
        ("chosen:bounded-per-author", 20, ["bounded"]),
        ("chosen:then-unbounded", 5, ["bounded", "per-author"]),  # a short pass
        ("chosen:unbounded-only", 20, ["per-author"]),
        ("walk", 20, ["walk"]),
        ("per-author", 20, ["per-author"]),
    ],
)
def test_each_path_is_taken_in_few_queries(sparse_network, monkeypatch, plan, limit, path):
    """The paths the oracle test covers are really taken, one statement each (the first page
    of a cold reader usually costs one)."""
    forced = use_plan(monkeypatch, plan)
    assert statements_run(sparse_network, limit=limit, delivery=Delivery.PUSH, **forced) == path


def test_a_short_walk_walks_on_when_its_yield_says_the_rest_is_near(sparse_network, monkeypatch):
    """A walk that found some of the page walks on from its last id (one more statement) when
    its yield says the rest fits in the budget; with no budget it goes per author at once."""
    use_plan(monkeypatch, "chosen:walk-on")
    assert statements_run(sparse_network, limit=500, delivery=Delivery.PUSH)[:2] == ["walk", "walk"]
    use_plan(monkeypatch, "chosen:bounded-walk")
    assert statements_run(sparse_network, limit=500, delivery=Delivery.PUSH)[:2] == ["walk", "bounded"]


def test_a_thin_sample_goes_on_below_the_floor(sparse_network, monkeypatch):
    """Deleted posts, pull posts and hidden accounts in the sample leave a pass short; the next
    pass starts at its floor."""
    use_plan(monkeypatch, "chosen:thin-sample-passes")
    ran = statements_run(sparse_network, limit=5, delivery=Delivery.PUSH)
    assert ran[:2] == ["bounded", "bounded"] and set(ran) <= {"bounded", "per-author"}


@pytest.mark.parametrize(("page", "batch"), [(10, 3), (4, 4), (11, 5), (10_000, 1000)])
def test_follower_id_batches_cover_every_follower_once(monkeypatch, page, batch):
    author = AccountFactory()
    followers = [f.id for f in bulk_followers(author, 23)]
    Follow.objects.filter(follower_id=followers[5]).delete()  # a gap in the edge ids
    monkeypatch.setattr("timelines.fanout.plan.FOLLOWER_PAGE", page)
    batches = list(follower_id_batches(author_id=author.id, batch_size=batch))
    assert [i for b in batches for i in b] == followers[:5] + followers[6:]
    assert all(len(b) <= batch for b in batches) and all(batches)
