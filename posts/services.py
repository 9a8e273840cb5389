"""Writes to posts and their engagement. Counts on Post (likes, comments, shares) change with
F() updates in the same transaction as the row they count, so they stay exact however many
requests race: PostgreSQL serialises the updates of one row, and a rolled-back like never
counts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from graph.models import Account, Block
from posts.models import Comment, Delivery, Like, Post
from posts.signals import post_deleted
from timelines.models import FeedConfig
from timelines.public import account_fanout_mode, account_is_celebrity, fanout_enqueue, publish_delete


def post_create(
    *, author: Account, body: str, media_urls: Sequence[str] = (), repost_of: Post | None = None
) -> Post:
    """Store a post (or, with ``repost_of``, a share); the post_save hook fans it out after
    commit, so a share reaches the sharer's followers exactly like a post.

    The delivery mode is fixed here, from the author's follower count and the threshold in
    force right now (with hysteresis, see ``account_is_celebrity``), so a threshold change
    applies to the very next post."""
    config = FeedConfig.load()
    delivery = account_fanout_mode(account=author, config=config)
    celebrity = account_is_celebrity(account=author, config=config)
    with transaction.atomic():
        if celebrity != author.celebrity:
            # Hysteresis state: the next post compares against the mode decided here.
            Account.objects.filter(pk=author.pk).update(celebrity=celebrity)
            author.celebrity = celebrity
        post = Post.objects.create(
            author=author, body=body, media_urls=list(media_urls), delivery=delivery, repost_of=repost_of
        )
        if repost_of is not None:
            Post.objects.filter(pk=repost_of.pk).update(share_count=F("share_count") + 1)
        if delivery == Delivery.PULL and not author.has_pull_posts:
            Account.objects.filter(pk=author.pk).update(has_pull_posts=True)
            author.has_pull_posts = True
    return post


def post_delete(*, post: Post, actor: Account) -> None:
    """Soft-delete. Feeds filter deleted posts when they load a page, so the post disappears
    everywhere at once without chasing its id through every follower's timeline. Deleting a
    share takes it off the original's share count; deleting an original hides its shares."""
    if post.author_id != actor.pk and not actor.is_staff:
        raise PermissionDenied("Only the author or staff can delete this post.")
    with transaction.atomic():
        deleted = Post.objects.filter(pk=post.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=actor
        )
        if deleted and post.repost_of_id is not None:
            Post.objects.filter(pk=post.repost_of_id).update(share_count=F("share_count") - 1)
        if deleted:  # receivers (notifications) act in this transaction or on its commit
            post_deleted.send(sender=Post, post_id=post.pk)
    if deleted:  # open streams drop it (docs/architecture.md#publishing)
        transaction.on_commit(partial(publish_delete, post_id=post.pk, author_id=post.author_id), robust=True)


def post_restore(*, post: Post, actor: Account) -> bool:
    """Undo a soft delete (staff only, from the admin); returns False if it was not deleted.

    The post reappears in feeds: the read-time filter lets it through again, and it is fanned
    out again after commit, because timelines and outboxes rebuilt while it was deleted do not
    hold it. Re-delivery is idempotent: a list that still holds the id is left as it is."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff can restore posts.")
    try:
        with transaction.atomic():
            restored = Post.objects.filter(pk=post.pk, deleted_at__isnull=False).update(
                deleted_at=None, deleted_by=None, restored_at=timezone.now(), restored_by=actor
            )
            if restored and post.repost_of_id is not None:
                Post.objects.filter(pk=post.repost_of_id).update(share_count=F("share_count") + 1)
    except IntegrityError:  # post_one_share_per_author: the account shared it again since
        raise ValidationError(f"Post {post.pk}: its author has shared that post again since.") from None
    if restored:
        transaction.on_commit(partial(_redeliver, post_id=post.pk), robust=True)
    return bool(restored)


def _redeliver(*, post_id: int) -> None:
    post = (
        Post.objects.filter(pk=post_id).select_related("author").only("delivery", "author__followers_count")
    )
    post = post.first()
    if post is None:
        return
    # A replay: lists that kept the id must not get it twice.
    fanout_enqueue(post_id=post_id, delivery=post.delivery, audience=post.author.followers_count, replay=True)


# -- engagement ------------------------------------------------------------------------------


def engagement_target(*, post: Post, actor: Account, verb: str) -> Post:
    """The post that a like, comment or share of ``post`` applies to: the original when
    ``post`` is a share (as Mastodon does with boosts). Refuses a deleted post (404), a post
    whose author (or sharer) blocked the actor (403), and one whose author the actor blocked
    (400), each with a message that says so."""
    original = post.repost_of if post.repost_of_id is not None else post
    if post.deleted_at is not None or original.deleted_at is not None:
        raise Http404("This post has been deleted.")
    authors = {post.author_id, original.author_id}
    blocks = Block.objects.filter(
        blocker_id__in=authors | {actor.pk}, blocked_id__in=authors | {actor.pk}
    ).values_list("blocker_id", "blocked_id")
    for blocker_id, blocked_id in blocks:
        if blocked_id == actor.pk and blocker_id in authors:
            raise PermissionDenied(f"You cannot {verb} posts of an account that has blocked you.")
        if blocker_id == actor.pk and blocked_id in authors:
            raise ValidationError(f"Unblock this account before you {verb} its posts.")
    return original


def like_create(*, user: Account, post: Post) -> tuple[Post, bool]:
    """Like; returns the liked post (the original, for a share) and False if already liked."""
    target = engagement_target(post=post, actor=user, verb="like")
    try:
        with transaction.atomic():
            Like.objects.create(user=user, post=target)
            Post.objects.filter(pk=target.pk).update(like_count=F("like_count") + 1)
    except IntegrityError:  # already liked, possibly by a request racing this one
        return target, False
    return target, True


def like_delete(*, user: Account, post: Post) -> bool:
    """Unlike; False if there was nothing to undo. Allowed on deleted posts and across blocks:
    taking back a like never needs permission."""
    target = post.repost_of if post.repost_of_id is not None else post
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, post=target).delete()
        if deleted:
            Post.objects.filter(pk=target.pk).update(like_count=F("like_count") - 1)
    return bool(deleted)


def comment_create(*, author: Account, post: Post, body: str) -> Comment:
    target = engagement_target(post=post, actor=author, verb="comment on")
    with transaction.atomic():
        comment = Comment.objects.create(post=target, author=author, body=body)
        Post.objects.filter(pk=target.pk).update(comment_count=F("comment_count") + 1)
    return comment


def comment_delete(*, comment: Comment, actor: Account) -> None:
    """Delete a comment: its author, the post's author (moderating their thread) or staff."""
    if actor.pk not in (comment.author_id, comment.post.author_id) and not actor.is_staff:
        raise PermissionDenied("Only the comment's author, the post's author or staff can delete it.")
    with transaction.atomic():
        deleted, _ = Comment.objects.filter(pk=comment.pk).delete()
        if deleted:
            Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - 1)


def share_create(*, user: Account, post: Post) -> tuple[Post, bool]:
    """Share (repost) a post; returns the share and whether it is new. Sharing a share shares
    its original; sharing the same post again returns the existing share (idempotent)."""
    target = engagement_target(post=post, actor=user, verb="share")
    existing = _live_share(user=user, original=target)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return post_create(author=user, body="", repost_of=target), True
    except IntegrityError:  # a concurrent request by the same user shared it first
        return _live_share(user=user, original=target), False


def share_delete(*, user: Account, post: Post) -> bool:
    """Un-share: soft-delete the user's share of the post (or of the share's original)."""
    target = post.repost_of if post.repost_of_id is not None else post
    share = _live_share(user=user, original=target)
    if share is None:
        return False
    post_delete(post=share, actor=user)
    return True


def _live_share(*, user: Account, original: Post) -> Post | None:
    return Post.objects.filter(author=user, repost_of=original, deleted_at__isnull=True).first()
