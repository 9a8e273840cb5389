"""OpenAPI schema (drf-spectacular) additions, so /api/schema/ tells the truth about what every
endpoint can answer: the error responses every operation may give, and the shape of our
keyset-paginated lists."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from feedsite.api import is_mastodon_path
from feedsite.pagination import CURSOR_MAX_LENGTH, MAX_LIMIT


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for humans.")
    errors = serializers.DictField(
        required=False, help_text="Validation errors by field (400 only).", child=serializers.JSONField()
    )


class ClientApiErrorSerializer(serializers.Serializer):
    """The Mastodon client API's errors (/api/v1/, /api/v2/, /oauth/)."""

    error = serializers.CharField(help_text="What went wrong, for humans.")
    error_description = serializers.CharField(required=False, help_text="OAuth errors: the details.")


PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit", int, description=f"Page size, 1 to {MAX_LIMIT} (default 20); anything else is a 400."
    ),
    OpenApiParameter(
        "cursor",
        str,
        description="Opaque signed cursor from the previous page's `next`; tampered or foreign "
        f"cursors are a 400 (at most {CURSOR_MAX_LENGTH} characters).",
    ),
]

_pages: dict[str, Any] = {}


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The response schema of a keyset page of ``serializer_class`` items."""
    name = f"Paginated{serializer_class.__name__.removesuffix('Serializer')}List"
    if name not in _pages:
        _pages[name] = inline_serializer(
            name=name,
            fields={
                "results": serializer_class(many=True),
                "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
            },
        )
    return _pages[name]


class FeedsiteAutoSchema(AutoSchema):
    """Adds the error responses an operation can give: 400 (bad parameters or body), 401 (bad
    or missing credentials), 403 (refused, or CSRF for cookie sessions), 404 (unknown id),
    413 (body too large), 415 (unreadable content type), 429 (rate limited), 503 (database
    unavailable). The Mastodon client API answers ``{"error": …}`` and 422 for validation.
    """

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        mastodon = is_mastodon_path(self.path)
        method = self.method.upper()
        has_body = method in {"POST", "PUT", "PATCH"}
        codes = ["401", "503"]
        if has_body or self._has_query_parameters():
            codes.append("400")
        if method not in {"GET", "HEAD", "OPTIONS"}:
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if has_body:
            codes += ["413", "415"] + (["422"] if mastodon else [])
        if self._throttled():
            codes.append("429")
        error = ClientApiErrorSerializer if mastodon else ErrorSerializer
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses

    def _is_list_view(self, serializer=None) -> bool:
        if serializer is not None and type(serializer).__name__.startswith("Paginated"):
            return False  # already the whole page object; not a list of them
        return super()._is_list_view(serializer)

    def _has_query_parameters(self) -> bool:
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _throttled(self) -> bool:
        try:
            return bool(self.view.get_throttles())
        except Exception:
            return False


class BearerScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <OAuth access token>`` (feedsite.oauth, docs/mastodon.md)."""

    target_class = "feedsite.oauth.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An OAuth 2 access token (/oauth/token)."}
