"""Writes to the social graph. Each keeps the denormalised counts exact (F() updates in the
same transaction as the edge) and, after commit, adjusts the affected timeline in Redis."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from rest_framework.authtoken.models import Token

from graph.models import Account, Block, Follow, Mute
from timelines.public import stream_graph_changed, timeline_author_added, timeline_author_removed

USERNAME_TAKEN = "A user with that username already exists."


def account_create(*, username: str, password: str) -> tuple[Account, Token]:
    account = Account(username=username)
    account.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    # Case-insensitive, so "Alice" cannot impersonate "alice" (also a DB constraint).
    if Account.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [USERNAME_TAKEN]})
    if not password.strip():
        raise ValidationError({"password": ["This field may not be blank."]})
    try:
        validate_password(password, user=account)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    account.set_password(password)
    try:
        with transaction.atomic():
            account.save()
            token = Token.objects.create(user=account)
    except IntegrityError:  # lost a race for the same username
        raise ValidationError({"username": [USERNAME_TAKEN]}) from None
    return account, token


def token_revoke(*, user: Account) -> None:
    """Log out everywhere the token was used: delete it (a new one is issued on the next
    token request)."""
    Token.objects.filter(user=user).delete()


def follow_create(*, follower: Account, followee: Account) -> bool:
    """Follow; returns False if already following. The followee's recent posts enter the
    follower's timeline right after commit."""
    if follower.pk == followee.pk:
        raise ValidationError("You cannot follow yourself.")
    if Block.objects.filter(blocker=followee, blocked=follower).exists():
        raise PermissionDenied("You cannot follow an account that has blocked you.")
    if Block.objects.filter(blocker=follower, blocked=followee).exists():
        raise ValidationError("Unblock this account before following it.")
    with transaction.atomic():
        _, created = Follow.objects.get_or_create(follower=follower, followee=followee)
        if created:
            Account.objects.filter(pk=followee.pk).update(followers_count=F("followers_count") + 1)
            Account.objects.filter(pk=follower.pk).update(following_count=F("following_count") + 1)
    if created:
        timeline_author_added(user_id=follower.pk, author_id=followee.pk)
    return created


def follow_delete(*, follower: Account, followee: Account) -> bool:
    """Unfollow; returns False if there was nothing to undo."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
        if deleted:
            Account.objects.filter(pk=followee.pk).update(followers_count=F("followers_count") - 1)
            Account.objects.filter(pk=follower.pk).update(following_count=F("following_count") - 1)
    if deleted:
        timeline_author_removed(user_id=follower.pk, author_id=followee.pk)
    return bool(deleted)


def block_create(*, blocker: Account, blocked: Account) -> bool:
    """Block; also ends follows in both directions and clears both timelines of each other."""
    if blocker.pk == blocked.pk:
        raise ValidationError("You cannot block yourself.")
    with transaction.atomic():
        _, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
        follow_delete(follower=blocker, followee=blocked)
        follow_delete(follower=blocked, followee=blocker)
    if created:
        stream_graph_changed(user_ids=[blocker.pk, blocked.pk])
    return created


def block_delete(*, blocker: Account, blocked: Account) -> bool:
    # Follows ended by the block stay ended, so there is nothing to restore in timelines.
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    if deleted:
        stream_graph_changed(user_ids=[blocker.pk, blocked.pk])
    return bool(deleted)


def mute_create(*, muter: Account, muted: Account) -> bool:
    if muter.pk == muted.pk:
        raise ValidationError("You cannot mute yourself.")
    with transaction.atomic():
        _, created = Mute.objects.get_or_create(muter=muter, muted=muted)
    if created:
        timeline_author_removed(user_id=muter.pk, author_id=muted.pk)
    return created


def mute_delete(*, muter: Account, muted: Account) -> bool:
    with transaction.atomic():
        deleted, _ = Mute.objects.filter(muter=muter, muted=muted).delete()
    if deleted and Follow.objects.filter(follower=muter, followee=muted).exists():
        timeline_author_added(user_id=muter.pk, author_id=muted.pk)
    elif deleted:
        stream_graph_changed(user_ids=[muter.pk])
    return bool(deleted)


_RECOUNT_SQL = """
UPDATE graph_account a
SET followers_count = c.followers, following_count = c.following
FROM (
    SELECT x.id,
           (SELECT count(*) FROM graph_follow f WHERE f.followee_id = x.id) AS followers,
           (SELECT count(*) FROM graph_follow f WHERE f.follower_id = x.id) AS following
    FROM graph_account x
    WHERE x.id BETWEEN %(first)s AND %(last)s
) c
WHERE a.id = c.id AND (a.followers_count <> c.followers OR a.following_count <> c.following)
RETURNING a.id
"""


def account_counts_repair(*, first_id: int, last_id: int) -> list[int]:
    """Recompute followers_count and following_count from the follow edges for accounts with
    ids in [first_id, last_id]; returns the ids that were wrong.

    Safe while follows and unfollows happen: the accounts' rows are locked first, which waits
    for transactions that already changed their counts, and the counting statement then
    starts with a fresh snapshot (READ COMMITTED) that sees those edges. A transaction that
    adds an edge but has not yet updated the count blocks on our lock and applies its +1/-1
    after we commit, on top of a count that did not include its uncommitted edge."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM graph_account WHERE id BETWEEN %s AND %s ORDER BY id FOR UPDATE",
            [first_id, last_id],
        )
        cursor.execute(_RECOUNT_SQL, {"first": first_id, "last": last_id})
        return sorted(row[0] for row in cursor.fetchall())
