"""Synthetic posts, likes and comments for demos and benchmarks, in bulk (COPY). See
graph.synthetic for accounts and follows."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from feedsite.bulk import bulk_load, copy_rows, ids_reserve
from graph.models import Account
from posts.models import Comment, Delivery, FanoutState, Like, Post
from timelines.models import FeedConfig
from timelines.public import account_fanout_mode, account_is_celebrity

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


@dataclass(frozen=True)
class PostingGroup:
    """More authors for ``posts_generate``, with their own rate and time window: e.g. a long
    tail of accounts with a few posts each, or quiet accounts that last posted months ago."""

    author_ids: Sequence[int]
    posts_per_user: float
    newest_days: float = 0  # the window's end, in days before now
    oldest_days: float = 30  # its start


@dataclass
class Posts:
    """What ``posts_generate`` made; ``ids`` oldest first."""

    ids: list[int]
    likes: int = 0
    comments: int = 0
    pull_authors: set[int] = field(default_factory=set)


def posts_generate(
    *,
    author_ids: Sequence[int],
    seed: int,
    posts_per_user: float = 5,
    sigma: float = 1.0,
    max_per_user: int = 500,
    days: float = 30,
    likes_per_post: float = 0,
    comments_per_post: float = 0,
    engagement_sigma: float = 1.2,
    groups: Sequence[PostingGroup] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> Posts:
    """Create posts (and likes and comments on them) for the given authors in bulk.

    Deterministic for a given seed. Per-author counts are log-normal (``sigma``) with mean
    ``posts_per_user``, capped at ``max_per_user``; creation times are spread over the last
    ``days`` days and ids increase with them, as they would for posts made live. Each post's
    delivery is decided like ``posts.services.post_create`` does, from the author's effective
    mode now; authors of pull-mode posts get ``has_pull_posts``. Bulk-created posts are not
    fanned out: timelines and outboxes are built from PostgreSQL on their first read.

    Likes and comments come from the authors themselves (as users). Per-post counts are
    log-normal (``engagement_sigma``) around ``likes_per_post`` and ``comments_per_post``,
    boosted by the square root of the author's follower count, so popular accounts' posts get
    most of it; ``like_count`` and ``comment_count`` are written with the posts, exactly.

    ``groups`` add authors with their own rate and time window (no likes or comments from
    them); all posts get ids in order of creation time, whichever group they come from.
    """
    rng = random.Random(seed)
    report = progress or (lambda stage, done, total: None)
    now = timezone.now()
    mean = math.exp(sigma * sigma / 2)  # of a log-normal(0, sigma) draw
    # (seconds after the oldest window's start, author), sorted: oldest first.
    stamps: list[tuple[float, int]] = []
    windows = [PostingGroup(author_ids, posts_per_user, 0, days), *groups]
    span = max(g.oldest_days for g in windows) * 86_400
    for group in windows:
        first = span - group.oldest_days * 86_400
        width = (group.oldest_days - group.newest_days) * 86_400
        for author_id in group.author_ids:
            count = min(max_per_user, round(rng.lognormvariate(0.0, sigma) * group.posts_per_user / mean))
            stamps.extend((first + rng.random() * width, author_id) for _ in range(count))
    stamps.sort()
    config = FeedConfig.load()
    every_author = [a for g in windows for a in g.author_ids]
    authors = list(
        Account.objects.filter(id__in=every_author).only(
            "id", "followers_count", "fanout_override", "celebrity"
        )
    )
    followers = {a.id: a.followers_count for a in authors}
    posting = {author_id for _, author_id in stamps}
    pull_authors = {
        a.id for a in authors if account_fanout_mode(account=a, config=config) == Delivery.PULL
    } & posting
    celebrities = {a.id for a in authors if account_is_celebrity(account=a, config=config)}

    # Engagement counts first, so the posts are written with their final counts.
    boosts = [math.sqrt(1 + followers.get(author_id, 0)) for _, author_id in stamps]
    norm = math.exp(engagement_sigma**2 / 2) * (sum(boosts) / len(boosts)) if boosts else 1.0
    users = list(author_ids)
    likes: list[int] = []
    comments: list[int] = []
    for boost in boosts:
        weight = rng.lognormvariate(0.0, engagement_sigma) * boost / norm
        likes.append(min(len(users), round(weight * likes_per_post)))
        comments.append(round(weight * comments_per_post))

    with transaction.atomic():
        ids = ids_reserve(model=Post, count=len(stamps))
        created = [now - timedelta(seconds=span - offset) for offset, _ in stamps]
        total = len(ids)

        def post_rows():
            for index, (post_id, (_, author_id)) in enumerate(zip(ids, stamps, strict=True)):
                if index % 100_000 == 0:
                    report("posts", index, total)
                delivery = Delivery.PULL if author_id in pull_authors else Delivery.PUSH
                body = " ".join(rng.choices(_WORDS, k=rng.randint(3, 16))).capitalize() + "."
                yield (
                    post_id,
                    author_id,
                    body,
                    created[index],
                    delivery,
                    likes[index],
                    comments[index],
                    FanoutState.DONE,
                )

        def when(index: int) -> datetime:
            return min(now, created[index] + timedelta(seconds=rng.random() * 86_400))

        def like_rows():
            for index, post_id in enumerate(ids):
                if index % 100_000 == 0:
                    report("likes", index, total)
                for user_id in rng.sample(users, likes[index]):
                    yield (user_id, post_id, when(index))

        def comment_rows():
            for index, post_id in enumerate(ids):
                if index % 100_000 == 0:
                    report("comments", index, total)
                for _ in range(comments[index]):
                    body = " ".join(rng.choices(_WORDS, k=rng.randint(2, 10))).capitalize() + "!"
                    yield (rng.choice(users), post_id, body, when(index))

        # Loaded straight into PostgreSQL, never fanned out: timelines are built from it on
        # read, so the fan-out sweeper must not take these posts for stranded ones.
        columns = [
            "id",
            "author_id",
            "body",
            "created_at",
            "delivery",
            "like_count",
            "comment_count",
            "fanout_state",
        ]
        with bulk_load(model=Post, rows=total):
            copy_rows(model=Post, columns=columns, rows=post_rows())
        report("posts", total, total)
        with bulk_load(model=Like, rows=sum(likes)):
            like_total = copy_rows(model=Like, columns=["user_id", "post_id", "created_at"], rows=like_rows())
        report("likes", total, total)
        with bulk_load(model=Comment, rows=sum(comments)):
            comment_total = copy_rows(
                model=Comment, columns=["author_id", "post_id", "body", "created_at"], rows=comment_rows()
            )
        report("comments", total, total)
        Account.objects.filter(id__in=pull_authors, has_pull_posts=False).update(has_pull_posts=True)
        Account.objects.filter(id__in=celebrities, celebrity=False).update(celebrity=True)
    return Posts(ids=ids, likes=like_total, comments=comment_total, pull_authors=pull_authors)
