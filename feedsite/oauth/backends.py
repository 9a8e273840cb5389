"""DOT's bridge to oauthlib, reading token and revoke request bodies as a form (RFC 6749)
or as JSON (some Mastodon clients send JSON)."""

from __future__ import annotations

import json

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import OAuthLibCore


class FormOrJSONOAuthLibCore(OAuthLibCore):
    def extract_body(self, request: HttpRequest) -> list[tuple[str, str]]:
        # An empty scope means the default scopes (oauthlib would read it as the scope "").
        return [(key, value) for key, value in self._body(request) if key != "scope" or value.strip()]

    def _body(self, request: HttpRequest) -> list[tuple[str, str]]:
        if request.content_type != "application/json":
            return super().extract_body(request)
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return []  # oauthlib answers invalid_request for the missing parameters
        if not isinstance(body, dict):
            return []
        return [(str(key), _text(value)) for key, value in body.items() if value is not None]


def _text(value: object) -> str:
    if isinstance(value, list):  # "scope": ["read", "write"]
        return " ".join(str(item) for item in value)
    return value if isinstance(value, str) else json.dumps(value)
