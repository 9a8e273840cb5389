"""The benchmark's data: a deterministic power-law network (graph.synthetic, the generator
seed_demo uses), its posts, and the accounts each measurement needs, picked or added on top.

On top of the power-law core: a long tail of posting accounts (a few posts each, no
followers but the curve readers), two thirds of them posting lately and one third *quiet*
(their last posts months old), and pull-mode accounts for the hybrid's read penalty; then
the curve readers, following exactly N accounts of one kind (docs/performance.md#workload)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from graph.models import Account, FanoutMode, Follow
from graph.synthetic import Network, accounts_generate, follows_add, network_generate
from posts.synthetic import PostingGroup, posts_generate

# The long tail: accounts posting lately (posts per account, over the core's 30 days) and
# quiet ones (their posts between 30 and 365 days old); pull-mode accounts post more.
TAIL_POSTS, QUIET_SHARE, QUIET_POSTS, QUIET_DAYS = 3.0, 1 / 3, 2.0, (30, 365)
PULL_POSTS = 20.0
PULL_READER_BASE = 200  # push-mode followees every curve-3 reader has besides its pull-mode ones
RECENT_DAYS = 7  # a reader's share of "recent posts": of those made in the last 7 days


@dataclass(frozen=True)
class Scale:
    """Sizes for one run. ``for_factor(1)`` is the default (well under 10 minutes on 2 cores);
    larger factors grow the network linearly (5: 100,000 users and about 20 million follows)."""

    name: str
    users: int
    avg_follows: int
    max_follows: int
    heavy_readers: int  # accounts following exactly max_follows
    posts_per_user: float
    probe_sizes: tuple[int, ...]  # authors whose fan-out and freshness are measured
    celebrity_followers: int
    fanout_posts: int  # posts timed per worker count
    freshness_posts: int
    celebrity_posts: int
    read_seconds: float
    cold_readers: int
    redis_benchmark_requests: int
    memory_timelines: int
    tail_accounts: int  # long-tail posting accounts (docs/performance.md#workload)
    follow_points: tuple[int, ...]  # curves 1 and 2: followees of the typical and quiet readers
    pull_points: tuple[int, ...] = (0, 10, 100, 500)  # curve 3: pull-mode followees
    curve_seconds: float = 3.0  # curves 1 and 3: load per series, over 2 interleaved rounds
    cold_repeats: int = 12  # curve 2: rebuilds per reader
    sustained_runs: int = 5  # curve 4: bursts at the sustained size, their median counts
    sustained_posts: int = 10  # posts per burst

    @property
    def fanout_sizes(self) -> tuple[int, ...]:
        """Curve 4's points: the probe authors, then the celebrity's audience."""
        return (*self.probe_sizes, self.celebrity_followers)

    @classmethod
    def for_factor(cls, factor: float) -> Scale:
        if factor <= 0:  # the smoke test's tiny run
            return cls(
                name="smoke", users=400, avg_follows=20, max_follows=150, heavy_readers=2,
                posts_per_user=3, probe_sizes=(10, 50, 200), celebrity_followers=500, fanout_posts=2,
                freshness_posts=3, celebrity_posts=1, read_seconds=1.0, cold_readers=40,
                redis_benchmark_requests=20_000, memory_timelines=50, tail_accounts=3_000,
                follow_points=(5, 20, 100, 400), curve_seconds=1.0, cold_repeats=3, sustained_runs=5,
                sustained_posts=2,
            )  # fmt: skip
        users = int(20_000 * factor)
        return cls(
            name=f"x{factor:g}", users=users, avg_follows=200, max_follows=5_000, heavy_readers=3,
            posts_per_user=5, probe_sizes=(100, 1_000, 10_000),
            celebrity_followers=max(100_000, users // 2), fanout_posts=7, freshness_posts=50,
            celebrity_posts=5, read_seconds=8.0, cold_readers=3_000,
            redis_benchmark_requests=1_000_000, memory_timelines=2_000,
            tail_accounts=int(200_000 * factor), follow_points=(50, 500, 5_000, 20_000),
        )  # fmt: skip


@dataclass
class Workload:
    network: Network
    typical_reader: Account  # follows about avg_follows accounts, some in pull mode
    heavy_reader: Account  # follows max_follows accounts
    cold_readers: list[Account]  # typical readers whose timelines are never built
    posts: int
    curve_readers: dict[str, Account]  # "typical 50", "quiet 5000", ...: curves 1 and 2
    pull_readers: dict[int, Account]  # by pull-mode followees: curve 3
    shares: dict[str, float]  # each curve reader's followees' share of the recent posts
    tail: dict  # what the long tail holds


def workload_build(scale: Scale, *, seed: int = 42, progress=None) -> Workload:
    network = network_generate(
        users=scale.users,
        seed=seed,
        avg_follows=scale.avg_follows,
        max_follows=scale.max_follows,
        max_follows_accounts=scale.heavy_readers,
        force_pull_top=3,  # at least one pull-mode account at every scale
        username_prefix="bench",
        progress=progress,
    )
    tail = accounts_generate(count=scale.tail_accounts, prefix="tail")
    quiet = tail[: int(len(tail) * QUIET_SHARE)]
    lately = tail[len(quiet) :]
    pull_group = accounts_generate(
        count=max(scale.pull_points), prefix="pull", fanout_override=FanoutMode.PULL
    )
    posts = posts_generate(
        author_ids=network.account_ids,
        seed=seed,
        posts_per_user=scale.posts_per_user,
        groups=[
            PostingGroup(lately, TAIL_POSTS),
            PostingGroup(quiet, QUIET_POSTS, *QUIET_DAYS),
            PostingGroup(pull_group, PULL_POSTS),
        ],
        progress=progress,
    )
    pull = set(network.pull_forced_ids)
    following = dict(zip(network.account_ids, network.following_counts, strict=True))
    # Typical readers: close to the average following count, following some pull-mode account.
    follows_pull = set(
        Follow.objects.filter(followee_id__in=pull).values_list("follower_id", flat=True).distinct()
    )
    typical = sorted(
        (abs(following[a] - scale.avg_follows), a) for a in network.account_ids if a in follows_pull
    )
    readers = [a for _, a in typical]
    heavy = max(network.account_ids, key=following.__getitem__)
    rng = random.Random(seed)
    # Probe authors' followers (the first accounts) get warm timelines: cold readers are others.
    warmed = set(network.account_ids[: max(scale.probe_sizes)])
    cold_pool = [a for a in readers[1:] if a not in warmed][: max(scale.cold_readers * 3, 50)]
    cold = rng.sample(cold_pool, min(scale.cold_readers, len(cold_pool)))
    accounts = Account.objects.in_bulk([readers[0], heavy, *cold])
    curve, pulling = _curve_readers(
        scale, rng=rng, active=[a for a in network.account_ids if a not in pull] + lately, quiet=quiet,
        pull_group=pull_group,
    )  # fmt: skip
    return Workload(
        network=network,
        typical_reader=accounts[readers[0]],
        heavy_reader=accounts[heavy],
        cold_readers=[accounts[a] for a in cold],
        posts=len(posts.ids),
        curve_readers=curve,
        pull_readers=pulling,
        shares={name: followees_recent_share(reader.id) for name, reader in curve.items()},
        tail={"accounts": len(tail), "quiet": len(quiet), "pull_mode": len(pull_group)},
    )


def _curve_readers(
    scale: Scale, *, rng: random.Random, active: list[int], quiet: list[int], pull_group: list[int]
) -> tuple[dict[str, Account], dict[int, Account]]:
    """Readers following exactly N accounts: *typical* ones drawn uniformly from the accounts
    posting lately (core and tail, push mode), *quiet* ones from the quiet tail; and readers
    of the same PULL_READER_BASE push-mode accounts plus 0, 10, ... pull-mode accounts."""
    edges: dict[str, list[int]] = {}
    for n in scale.follow_points:
        edges[f"typical {n}"] = rng.sample(active, n)
        edges[f"quiet {n}"] = rng.sample(quiet, n)
    base = rng.sample(active, min(PULL_READER_BASE, len(active)))
    for n in scale.pull_points:
        edges[f"pull {n}"] = base + pull_group[:n]
    ids = accounts_generate(count=len(edges), prefix="reader", active=True)
    follows_add(dict(zip(ids, edges.values(), strict=True)))
    accounts = Account.objects.in_bulk(ids)
    named = {name: accounts[i] for name, i in zip(edges, ids, strict=True)}
    pulling = {n: named.pop(f"pull {n}") for n in scale.pull_points}
    return named, pulling


def followees_recent_share(reader_id: int) -> float:
    """The share of the posts made in the last RECENT_DAYS days whose author the reader
    follows: what decides how far pure pull's newest-first walk must go for a page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM graph_follow f"
            "   WHERE f.follower_id = %s AND f.followee_id = p.author_id)), count(*)"
            " FROM posts_post p WHERE p.created_at > now() - make_interval(days => %s)",
            [reader_id, RECENT_DAYS],
        )
        theirs, everyone = cursor.fetchone()
    return theirs / everyone if everyone else 0.0


def readers_mark_active(account_ids: list[int]) -> None:
    """Fan-out writes only the timelines of readers active lately (see timelines.feed.policy)."""
    Account.objects.filter(id__in=account_ids).update(last_feed_read_at=timezone.now())


def tokens_for(accounts: list[Account]) -> list[str]:
    existing = dict(Token.objects.filter(user__in=accounts).values_list("user_id", "key"))
    missing = [Token(user=a, key=Token.generate_key()) for a in accounts if a.id not in existing]
    Token.objects.bulk_create(missing)
    existing.update({t.user_id: t.key for t in missing})
    return [existing[a.id] for a in accounts]
