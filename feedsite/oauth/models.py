"""A Mastodon app: one client id for the authorization-code, password and client-credentials
grants (DOT's stock Application allows one grant type), registered scopes, and the
out-of-band redirect (docs/architecture.md#mastodon-oauth)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models
from oauth2_provider.models import AbstractApplication

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
GRANT_TYPES = (
    AbstractApplication.GRANT_AUTHORIZATION_CODE,
    AbstractApplication.GRANT_PASSWORD,
    AbstractApplication.GRANT_CLIENT_CREDENTIALS,
)


class Application(AbstractApplication):
    scopes = models.CharField(
        max_length=2000, default="read", help_text="Registered scopes, space separated."
    )
    website = models.URLField(max_length=2000, blank=True, default="")

    class Meta(AbstractApplication.Meta):
        db_table = "oauth_application"

    def allows_grant_type(self, *grant_types: str) -> bool:
        return any(grant in GRANT_TYPES for grant in grant_types)

    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()

    def redirect_uri_allowed(self, uri: str) -> bool:
        # Non-web URIs (the OOB URN, an app's own scheme) must match a registered one exactly.
        if urlsplit(uri).scheme not in ("http", "https"):
            return uri in self.redirect_uri_list
        return super().redirect_uri_allowed(uri)

    def get_allowed_schemes(self) -> list[str]:
        schemes = {urlsplit(uri).scheme for uri in self.redirect_uri_list}
        return sorted(schemes | {"http", "https"})
