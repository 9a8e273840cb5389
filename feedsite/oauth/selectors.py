"""Reads for sign-in: which account a login name means."""

from __future__ import annotations

from graph.models import Account


def login_username(*, login: str) -> str:
    """The username to authenticate for ``login``: a username, or the email address of exactly
    one active account (toot's login_cli and Mastodon.py pass the email). Unknown names come
    back unchanged, so authentication still runs its hasher and fails in the same time."""
    login = login.strip()
    if "@" in login:
        usernames = list(
            Account.objects.filter(email__iexact=login, is_active=True).values_list("username", flat=True)[:2]
        )
        if len(usernames) == 1:
            return usernames[0]
    return login
