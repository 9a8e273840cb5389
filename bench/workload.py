"""The benchmark's data: a deterministic power-law network (graph.synthetic, the generator
seed_demo uses), its posts, and the accounts each measurement needs, picked or added on top."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from feedsite.bulk import copy_rows, ids_reserve
from graph.models import Account, Follow
from graph.synthetic import Network, network_generate
from posts.synthetic import posts_generate


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

    @classmethod
    def for_factor(cls, factor: float) -> Scale:
        if factor <= 0:  # the smoke test's tiny run
            return cls(
                name="smoke", users=400, avg_follows=20, max_follows=150, heavy_readers=2,
                posts_per_user=3, probe_sizes=(10, 50, 200), celebrity_followers=500, fanout_posts=2,
                freshness_posts=3, celebrity_posts=1, read_seconds=1.0, cold_readers=40,
                redis_benchmark_requests=20_000, memory_timelines=50,
            )  # fmt: skip
        users = int(20_000 * factor)
        return cls(
            name=f"x{factor:g}", users=users, avg_follows=200, max_follows=5_000, heavy_readers=3,
            posts_per_user=5, probe_sizes=(100, 1_000, 10_000),
            celebrity_followers=max(100_000, users // 2), fanout_posts=7, freshness_posts=50,
            celebrity_posts=5, read_seconds=8.0, cold_readers=3_000,
            redis_benchmark_requests=1_000_000, memory_timelines=2_000,
        )  # fmt: skip


@dataclass
class Workload:
    network: Network
    typical_reader: Account  # follows about avg_follows accounts, some in pull mode
    heavy_reader: Account  # follows max_follows accounts
    cold_readers: list[Account]  # typical readers whose timelines are never built
    posts: int


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
    posts = posts_generate(
        author_ids=network.account_ids, seed=seed, posts_per_user=scale.posts_per_user, progress=progress
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
    return Workload(
        network=network,
        typical_reader=accounts[readers[0]],
        heavy_reader=accounts[heavy],
        cold_readers=[accounts[a] for a in cold],
        posts=len(posts.ids),
    )


def accounts_add(*, count: int, prefix: str) -> list[int]:
    """Plain accounts in bulk (COPY), marked as active readers, e.g. a celebrity's audience."""
    with transaction.atomic():
        ids = ids_reserve(model=Account, count=count)
        now = timezone.now()
        copy_rows(
            model=Account,
            columns=["id", "username", "password", "last_feed_read_at"],
            rows=((i, f"{prefix}{i}", "!", now) for i in ids),
        )
    return ids


def readers_mark_active(account_ids: list[int]) -> None:
    """Fan-out writes only the timelines of readers active lately (see timelines.feed.policy)."""
    Account.objects.filter(id__in=account_ids).update(last_feed_read_at=timezone.now())


def tokens_for(accounts: list[Account]) -> list[str]:
    existing = dict(Token.objects.filter(user__in=accounts).values_list("user_id", "key"))
    missing = [Token(user=a, key=Token.generate_key()) for a in accounts if a.id not in existing]
    Token.objects.bulk_create(missing)
    existing.update({t.user_id: t.key for t in missing})
    return [existing[a.id] for a in accounts]
