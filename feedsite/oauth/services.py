"""Writes: registering a Mastodon app (POST /api/v1/apps)."""

from __future__ import annotations

from feedsite.oauth.models import Application


def application_create(
    *, name: str, redirect_uris: list[str], scopes: list[str], website: str
) -> Application:
    """A confidential client allowed every grant Mastodon offers (feedsite.oauth.models).
    Its secret is kept as issued, not hashed: it is 128 random characters, not a password,
    and hashing it with the password hasher would cost a hash per token request
    (docs/architecture.md#mastodon-oauth)."""
    return Application.objects.create(
        name=name,
        redirect_uris=" ".join(redirect_uris),
        scopes=" ".join(scopes),
        website=website,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        hash_client_secret=False,
    )
