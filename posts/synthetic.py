"""Synthetic posts for demos and benchmarks, in bulk (COPY). See graph.synthetic for accounts."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from feedsite.bulk import bulk_load, copy_rows, ids_reserve
from graph.models import Account
from posts.models import Delivery, Post
from timelines.models import FeedConfig
from timelines.selectors import account_fanout_mode

_WORDS = (
    "feed",
    "news",
    "today",
    "launch",
    "update",
    "coffee",
    "city",
    "night",
    "music",
    "match",
    "release",
    "photo",
    "travel",
    "team",
    "game",
    "weekend",
    "idea",
    "project",
    "open",
    "source",
    "data",
    "design",
    "morning",
    "rain",
    "sun",
    "code",
    "ship",
    "review",
    "story",
    "week",
    "great",
    "new",
    "first",
    "last",
    "thanks",
    "everyone",
    "check",
    "this",
    "out",
    "live",
    "now",
    "soon",
)


def posts_generate(
    *,
    author_ids: Sequence[int],
    seed: int,
    posts_per_user: float = 5,
    sigma: float = 1.0,
    max_per_user: int = 500,
    days: float = 30,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[int]:
    """Create posts for the given authors in bulk; returns their ids, oldest first.

    Deterministic for a given seed. Per-author counts are log-normal (``sigma``) with mean
    ``posts_per_user``, capped at ``max_per_user``; creation times are spread over the last
    ``days`` days and ids increase with them, as they would for posts made live. Each post's
    delivery is decided like ``posts.services.post_create`` does, from the author's effective
    mode now; authors of pull-mode posts get ``has_pull_posts``. Bulk-created posts are not
    fanned out: timelines and outboxes are built from PostgreSQL on their first read.
    """
    rng = random.Random(seed)
    report = progress or (lambda stage, done, total: None)
    now = timezone.now()
    span = timedelta(days=days).total_seconds()
    mean = math.exp(sigma * sigma / 2)  # of a log-normal(0, sigma) draw
    stamps: list[tuple[float, int]] = []
    for author_id in author_ids:
        count = min(max_per_user, round(rng.lognormvariate(0.0, sigma) * posts_per_user / mean))
        stamps.extend((rng.random() * span, author_id) for _ in range(count))
    stamps.sort()
    config = FeedConfig.load()
    pull_authors = {
        account.id
        for account in Account.objects.filter(id__in=author_ids).only(
            "id", "followers_count", "fanout_override"
        )
        if account_fanout_mode(account=account, config=config) == Delivery.PULL
    } & {author_id for _, author_id in stamps}
    with transaction.atomic():
        ids = ids_reserve(model=Post, count=len(stamps))
        total = len(ids)
        report("posts", 0, total)

        def rows():
            for index, ((offset, author_id), post_id) in enumerate(zip(stamps, ids, strict=True)):
                if index and index % 100_000 == 0:
                    report("posts", index, total)
                delivery = Delivery.PULL if author_id in pull_authors else Delivery.PUSH
                body = " ".join(rng.choices(_WORDS, k=rng.randint(3, 16))).capitalize() + "."
                created = now - timedelta(seconds=span - offset)
                yield (post_id, author_id, body, created, delivery)

        with bulk_load(model=Post, rows=len(ids)):
            copy_rows(model=Post, columns=["id", "author_id", "body", "created_at", "delivery"], rows=rows())
        Account.objects.filter(id__in=pull_authors, has_pull_posts=False).update(has_pull_posts=True)
        report("posts", total, total)
    return ids
