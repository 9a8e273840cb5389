"""POST /api/v1/apps input, and the Application entity
(docs.joinmastodon.org/entities/Application)."""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedsite.oauth.models import Application
from feedsite.oauth.scopes import DEFAULT_SCOPES, scopes_parse, scopes_unknown

# An absolute URI: a scheme, then something; http(s) ones need a host.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@extend_schema_field(OpenApiTypes.STR)
class RedirectUrisField(serializers.Field):
    """One string (URIs separated by whitespace or newlines, as Mastodon.py sends) or a list."""

    def to_internal_value(self, data) -> list[str]:
        if isinstance(data, str):
            uris = data.split()
        elif isinstance(data, list) and all(isinstance(uri, str) for uri in data):
            uris = [uri.strip() for uri in data if uri.strip()]
        else:
            raise serializers.ValidationError("Expected a string or a list of strings.")
        if not uris:
            raise serializers.ValidationError("This field may not be blank.")
        for uri in uris:
            web = uri.lower().startswith(("http:", "https:"))
            if len(uri) > 2000 or "#" in uri or not _URI.match(uri) or (web and "://" not in uri):
                raise serializers.ValidationError(f"{uri[:100]!r} is not an absolute URI without a fragment.")
        return list(dict.fromkeys(uris))


class ApplicationCreateSerializer(serializers.Serializer):
    client_name = serializers.CharField(max_length=255)
    redirect_uris = RedirectUrisField()
    scopes = serializers.CharField(max_length=2000, required=False, default=" ".join(DEFAULT_SCOPES))
    website = serializers.URLField(
        max_length=2000, required=False, allow_blank=True, allow_null=True, default=""
    )

    def validate_scopes(self, value: str) -> list[str]:
        scopes = scopes_parse(value) or list(DEFAULT_SCOPES)
        unknown = scopes_unknown(scopes)
        if unknown:
            raise serializers.ValidationError(f"Unknown scopes: {' '.join(unknown)[:200]}.")
        return scopes

    def validate_website(self, value: str | None) -> str:
        return value or ""


def application_entity(app: Application, *, credentials: bool) -> dict:
    """The Application entity; with ``credentials`` (just registered) also the client id and
    secret (Mastodon's CredentialApplication)."""
    uris = app.redirect_uri_list
    entity = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "scopes": scopes_parse(app.scopes),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": None,
    }
    if credentials:
        entity.update(client_id=app.client_id, client_secret=app.client_secret, client_secret_expires_at=0)
    return entity
