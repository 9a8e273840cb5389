"""A deterministic, power-law social network for demos and benchmarks (bulk COPY inserts).

``network_generate`` builds accounts and follows only; ``posts.synthetic.posts_generate`` adds
posts. Both are plain functions so ``seed_demo`` and the benchmarks share them.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from feedsite.bulk import bulk_load, copy_rows, ids_reserve
from graph.models import Account, FanoutMode, Follow

# progress(stage, done, total): called now and then during long stages.
Progress = Callable[[str, int, int], None]

# Draw followees in slices of this many users, so memory stays flat at millions of edges.
_EDGE_SLICE = 2_000


@dataclass
class Network:
    """What ``network_generate`` made. Lists are indexed like the accounts (0..users-1)."""

    account_ids: list[int]
    followers_counts: list[int]
    following_counts: list[int]
    follows: int
    pull_forced_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def most_followed(self, n: int = 10) -> list[tuple[int, int]]:
        """The n most-followed accounts as (account id, followers), most followed first."""
        top = heapq.nlargest(n, range(len(self.account_ids)), key=self.followers_counts.__getitem__)
        return [(self.account_ids[i], self.followers_counts[i]) for i in top]


def _following_counts(
    rng: random.Random, *, users: int, avg: float, minimum: int, maximum: int, sigma: float, at_max: int
) -> list[int]:
    """Heavy-tailed (log-normal) following counts with the requested mean, clipped to
    [minimum, maximum]; ``at_max`` accounts follow exactly ``maximum``."""
    raw = [rng.lognormvariate(0.0, sigma) for _ in range(users)]
    scale = avg / (sum(raw) / users)
    # Clipping moves the mean; a few rescaling passes bring it back within about 1%.
    for _ in range(4):
        counts = [min(maximum, max(minimum, round(x * scale))) for x in raw]
        mean = sum(counts) / users
        if abs(mean - avg) <= 0.01 * avg:
            break
        scale *= avg / mean
    for index in rng.sample(range(users), min(at_max, users)):
        counts[index] = maximum
    return counts


def _followees(rng: random.Random, *, me: int, k: int, cum: list[float], by_rank: list[int]) -> list[int]:
    """k distinct accounts other than ``me``, drawn by popularity without replacement."""
    users = len(by_rank)
    if k * 5 > users:
        # Many relative to the population: Efraimidis-Spirakis keys (u ** (1 / w)), exact and
        # O(users) instead of a rejection loop that stalls on the last, rarest accounts.
        weights = [cum[0]] + [b - a for a, b in itertools.pairwise(cum)]
        keys = ((rng.random() ** (1.0 / weights[r]), by_rank[r]) for r in range(users))
        return [acc for _, acc in heapq.nlargest(k, (kv for kv in keys if kv[1] != me))]
    chosen: dict[int, None] = {}  # insertion-ordered set
    while len(chosen) < k:
        need = k - len(chosen)
        chosen.update(dict.fromkeys(rng.choices(by_rank, cum_weights=cum, k=need + need // 8 + 2)))
        chosen.pop(me, None)
    return list(chosen)[:k]


def network_generate(
    *,
    users: int,
    seed: int,
    avg_follows: float = 50,
    min_follows: int = 1,
    max_follows: int = 5_000,
    max_follows_accounts: int = 0,
    follows_sigma: float = 1.0,
    popularity_exponent: float = 0.9,
    force_pull_top: int = 0,
    username_prefix: str = "user",
    password: str | None = None,
    progress: Progress | None = None,
) -> Network:
    """Create ``users`` accounts and a power-law follow graph among them, in bulk.

    Deterministic: the same arguments on an empty database give the same graph (account
    ``i`` is named ``{username_prefix}{i:07d}``; ids come from the table's sequence).

    * Following counts are log-normal (``follows_sigma``) with mean ``avg_follows``, clipped to
      [``min_follows``, ``max_follows``] (and to users - 1); ``max_follows_accounts`` accounts
      follow exactly ``max_follows`` (the heaviest readers for a benchmark).
    * Whom they follow: account of popularity rank r is chosen with weight
      1 / (r + 1) ** ``popularity_exponent`` (Zipf), so most accounts have a few followers
      and a few have very many. With 100,000 users, ``avg_follows=200`` and the default
      exponent 0.9 (measured, seed 1): followers median 66, p99 2,150, max 94,173, and 156
      accounts above the default 10,000 celebrity threshold; with ``avg_follows=30``: median
      9, max 57,627, 17 above it. Lower exponents flatten the head.
    * ``followers_count`` and ``following_count`` are written exactly.
    * ``force_pull_top``: the n most-followed accounts get ``fanout_override=pull``, so a
      small network still has pull-mode authors.
    * ``password``: hashed once and shared by every account (None: unusable passwords).
    * ``progress(stage, done, total)`` is called during the long stages.

    Runs in one transaction: an error leaves nothing half-written. Usernames must be free.
    """
    if users < 2:
        raise ValueError("users must be at least 2")
    if not 0 <= min_follows <= max_follows:
        raise ValueError("need 0 <= min_follows <= max_follows")
    if avg_follows <= 0 or popularity_exponent < 0:
        raise ValueError("avg_follows must be positive and popularity_exponent non-negative")
    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    rng = random.Random(seed)
    maximum = min(max_follows, users - 1)
    minimum = min(min_follows, maximum)
    following = _following_counts(
        rng,
        users=users,
        avg=min(avg_follows, maximum),
        minimum=minimum,
        maximum=maximum,
        sigma=follows_sigma,
        at_max=max_follows_accounts,
    )
    # Popularity is independent of the account's index (and of how many it follows).
    by_rank = list(range(users))
    rng.shuffle(by_rank)
    cum = list(itertools.accumulate(1.0 / (r + 1) ** popularity_exponent for r in range(users)))

    names = [f"{username_prefix}{i:07d}" for i in range(users)]
    if Account.objects.filter(username__in=names[:1] + names[-1:]).exists():
        raise ValueError(f"accounts named {username_prefix}... already exist; pick another prefix")

    with transaction.atomic():
        ids = ids_reserve(model=Account, count=users)
        hashed = make_password(password)  # None gives an unusable password
        report("accounts", 0, users)
        with bulk_load(model=Account, rows=users):
            copy_rows(
                model=Account,
                columns=["id", "username", "password", "following_count"],
                rows=((ids[i], names[i], hashed, following[i]) for i in range(users)),
            )
        report("accounts", users, users)

        followers: Counter[int] = Counter()
        edges_total = sum(following)
        written = 0
        now = timezone.now()

        def edge_rows():
            nonlocal written
            for start in range(0, users, _EDGE_SLICE):
                for me in range(start, min(users, start + _EDGE_SLICE)):
                    chosen = _followees(rng, me=me, k=following[me], cum=cum, by_rank=by_rank)
                    followers.update(chosen)
                    follower_id = ids[me]
                    for other in chosen:
                        yield (follower_id, ids[other], now)
                    written += following[me]
                report("follows", written, edges_total)

        report("follows", 0, edges_total)
        with bulk_load(model=Follow, rows=sum(following)):
            follows = copy_rows(
                model=Follow, columns=["follower_id", "followee_id", "created_at"], rows=edge_rows()
            )
        counts = [followers[i] for i in range(users)]
        top = heapq.nlargest(force_pull_top, range(users), key=counts.__getitem__)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE graph_account a SET followers_count = c.n"
                " FROM unnest(%s::bigint[], %s::int[]) AS c(id, n) WHERE a.id = c.id",
                [ids, counts],
            )
        Account.objects.filter(id__in=[ids[i] for i in top]).update(fanout_override=FanoutMode.PULL)
    return Network(
        account_ids=ids,
        followers_counts=counts,
        following_counts=following,
        follows=follows,
        pull_forced_ids=[ids[i] for i in top],
        seconds=time.monotonic() - started,
    )


def network_summary(network: Network) -> str:
    """One line describing the degree distributions, for command output and notes."""
    counts = sorted(network.followers_counts)
    n = len(counts)

    def pct(q: float) -> int:
        return counts[min(n - 1, math.floor(q * n))]

    return (
        f"{n} accounts, {network.follows} follows (mean {network.follows / n:.1f} each, "
        f"max following {max(network.following_counts)}); followers median {pct(0.5)}, "
        f"p99 {pct(0.99)}, max {counts[-1]}; {sum(c >= 10_000 for c in counts)} with 10,000+"
    )


def accounts_generate(
    *, count: int, prefix: str, active: bool = False, fanout_override: str = FanoutMode.AUTO
) -> list[int]:
    """``count`` plain accounts in bulk (COPY), named ``{prefix}{id}``, with no follows: the
    long tail of a network (accounts that post a little and are barely followed), a
    celebrity's audience, or readers. ``active``: marked as having read their feed just now
    (fan-out writes only active readers' timelines). Returns their ids, ascending."""
    with transaction.atomic():
        ids = ids_reserve(model=Account, count=count)
        now = timezone.now() if active else None
        with bulk_load(model=Account, rows=count):
            copy_rows(
                model=Account,
                columns=["id", "username", "password", "last_feed_read_at", "fanout_override"],
                rows=((i, f"{prefix}{i}", "!", now, fanout_override) for i in ids),
            )
    return ids


def follows_add(edges: dict[int, list[int]]) -> int:
    """Follow edges in bulk (COPY): each follower in ``edges`` follows the listed accounts
    (new edges only). ``following_count`` and ``followers_count`` are updated to match.
    Returns the number of edges written."""
    now = timezone.now()
    followers: Counter[int] = Counter(f for followees in edges.values() for f in followees)
    with transaction.atomic():
        written = copy_rows(
            model=Follow,
            columns=["follower_id", "followee_id", "created_at"],
            rows=((me, other, now) for me, followees in edges.items() for other in followees),
        )
        with connection.cursor() as cursor:
            for column, counts in (
                ("following_count", {me: len(f) for me, f in edges.items()}),
                ("followers_count", followers),
            ):
                cursor.execute(
                    f"UPDATE graph_account a SET {column} = a.{column} + c.n"
                    " FROM unnest(%s::bigint[], %s::int[]) AS c(id, n) WHERE a.id = c.id",
                    [list(counts), list(counts.values())],
                )
    return written
