"""The feed page loader (timelines.feed.rows.feed_posts_by_ids, hand-written SQL) against the
rules it implements, and its plain renderer against PostSerializer."""

from __future__ import annotations

import random

import pytest

from graph.models import Block, Follow, Mute
from posts.models import Post
from posts.selectors import liked_post_ids
from posts.serializers import PostSerializer, feed_posts_data
from posts.services import like_create, post_create, post_delete
from tests.factories import AccountFactory
from timelines.feed.rows import feed_entries_by_ids, feed_posts_by_ids

pytestmark = pytest.mark.django_db


def expected_feed(viewer, posts: list[Post], *, dedup: bool = True) -> list[int]:
    """The feed rules, stated in Python over rows read back from PostgreSQL."""
    follows = set(Follow.objects.filter(follower=viewer).values_list("followee_id", flat=True))
    muted = set(Mute.objects.filter(muter=viewer).values_list("muted_id", flat=True))
    blocks = set(Block.objects.filter(blocker=viewer).values_list("blocked_id", flat=True))
    blocks |= set(Block.objects.filter(blocked=viewer).values_list("blocker_id", flat=True))
    rows = {p.id: p for p in Post.objects.filter(id__in=[p.id for p in posts])}

    def allowed(author_id: int) -> bool:  # not muted, not blocked either way
        return author_id not in muted and author_id not in blocks

    def in_feed(post: Post) -> bool:
        return (
            post.deleted_at is None
            and (post.author_id == viewer.id or post.author_id in follows)
            and allowed(post.author_id)
        )

    shown = []
    for post in rows.values():
        if not in_feed(post):
            continue
        if post.repost_of_id is not None:
            original = Post.objects.get(id=post.repost_of_id)
            if original.deleted_at is not None or not allowed(original.author_id):
                continue
        if dedup:
            original_id = post.repost_of_id or post.id
            newer_shares = Post.objects.filter(repost_of_id=original_id, id__gt=post.id)
            if any(in_feed(share) for share in newer_shares):
                continue
        shown.append(post.id)
    return sorted(shown, reverse=True)


@pytest.mark.parametrize("seed", range(10))
def test_loader_applies_the_feed_rules(seed):
    """Random small worlds (follows, mutes, blocks both ways, shares of shared posts, deleted
    posts and originals): the loader shows exactly what the rules say, with and without
    de-duplication, as full posts and as ranking entries."""
    rng = random.Random(seed)
    viewer, *others = AccountFactory.create_batch(7)
    for other in others:
        if rng.random() < 0.7:
            Follow.objects.create(follower=viewer, followee=other)
    for other in rng.sample(others, 2):
        Mute.objects.create(muter=viewer, muted=other)
    Block.objects.create(blocker=viewer, blocked=rng.choice(others))
    Block.objects.create(blocker=rng.choice(others), blocked=viewer)
    everyone = [viewer, *others]
    posts = [post_create(author=rng.choice(everyone), body=f"post {i}") for i in range(12)]
    originals = list(posts)
    for _ in range(16):
        sharer, original = rng.choice(everyone), rng.choice(originals)
        if not Post.objects.filter(author=sharer, repost_of=original, deleted_at__isnull=True).exists():
            posts.append(post_create(author=sharer, body="", repost_of=original))
    for post in rng.sample(posts, 6):
        post_delete(post=post, actor=post.author)
    ids = [p.id for p in posts]

    want = expected_feed(viewer, posts)
    assert want  # the world is not empty, so the comparison means something
    assert [p.id for p in feed_posts_by_ids(viewer_id=viewer.id, post_ids=ids)] == want
    assert [e.id for e in feed_entries_by_ids(viewer_id=viewer.id, post_ids=ids)] == want
    all_visible = expected_feed(viewer, posts, dedup=False)
    assert [p.id for p in feed_posts_by_ids(viewer_id=viewer.id, post_ids=ids, dedup=False)] == all_visible


def test_feed_posts_render_as_post_serializer_does():
    viewer, author, sharer = AccountFactory.create_batch(3)
    for followee in (author, sharer):
        Follow.objects.create(follower=viewer, followee=followee)
    plain = post_create(author=author, body="plain")
    media = post_create(author=author, body="with media", media_urls=["https://example.com/a.png"])
    original = post_create(author=author, body="shared one")
    share = post_create(author=sharer, body="", repost_of=original)
    own = post_create(author=viewer, body="mine é ✓")
    like_create(user=viewer, post=media)
    like_create(user=viewer, post=original)
    like_create(user=sharer, post=plain)
    ids = [p.id for p in (plain, media, original, share, own)]

    loaded = feed_posts_by_ids(viewer_id=viewer.id, post_ids=ids, dedup=False)
    orm_posts = list(
        Post.objects.filter(id__in=ids).select_related("author", "repost_of__author").order_by("-id")
    )
    liked = liked_post_ids(viewer=viewer, posts=orm_posts)
    expected = PostSerializer(orm_posts, many=True, context={"liked_ids": liked}).data

    rendered = feed_posts_data(loaded)
    assert rendered == [dict(item) for item in expected]
    by_id = {item["id"]: item for item in rendered}
    assert by_id[share.id]["repost_of"]["liked_by_me"] is True  # the original's like, on the share
    assert by_id[share.id]["liked_by_me"] is False
    assert by_id[media.id]["liked_by_me"] is True and by_id[plain.id]["liked_by_me"] is False
    assert by_id[original.id]["share_count"] == 1
