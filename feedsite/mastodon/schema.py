"""The Mastodon API's OpenAPI schema, served apart from ours at /api/schema/mastodon/ (our
/api/schema/ leaves /api/v1 and /api/v2 out): Mastodon's error body, its statuses (422 for
validation, 403 for a token without the scope) and the entities' main fields. What each field
means is Mastodon's documentation (docs.joinmastodon.org, entities); docs/mastodon.md says
what we fill in."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers

MASTODON_PREFIXES = ("/api/v1/", "/api/v2/")


def without_mastodon(endpoints: list, **kwargs) -> list:
    """Preprocessing hook of /api/schema/: our own API only."""
    return [e for e in endpoints if not e[0].startswith(MASTODON_PREFIXES)]


def only_mastodon(endpoints: list, **kwargs) -> list:
    """Preprocessing hook of /api/schema/mastodon/: the Mastodon client API only."""
    return [e for e in endpoints if e[0].startswith(MASTODON_PREFIXES)]


class MastodonSchemaView(SpectacularAPIView):
    custom_settings = {
        "TITLE": "feedsite Mastodon client API",
        "DESCRIPTION": "The Mastodon client API subset feedsite serves (docs/mastodon.md).",
        "PREPROCESSING_HOOKS": ["feedsite.mastodon.schema.only_mastodon"],
    }


ERROR = inline_serializer(
    name="MastodonError",
    fields={"error": serializers.CharField(help_text="What went wrong, for humans.")},
    required=False,
)
ACCOUNT = inline_serializer(
    name="Account",
    fields={
        "id": serializers.CharField(),
        "username": serializers.CharField(),
        "acct": serializers.CharField(),
        "display_name": serializers.CharField(),
        "created_at": serializers.CharField(),
        "url": serializers.CharField(),
        "followers_count": serializers.IntegerField(),
        "following_count": serializers.IntegerField(),
        "statuses_count": serializers.IntegerField(),
        "last_status_at": serializers.CharField(allow_null=True),
        "emojis": serializers.ListField(child=serializers.DictField()),
        "fields": serializers.ListField(child=serializers.DictField()),
    },
)
_STATUS_FIELDS = {
    "id": serializers.CharField(),
    "created_at": serializers.CharField(),
    "account": ACCOUNT,
    "content": serializers.CharField(allow_blank=True),
    "visibility": serializers.CharField(),
    "media_attachments": serializers.ListField(child=serializers.DictField()),
    "favourites_count": serializers.IntegerField(),
    "reblogs_count": serializers.IntegerField(),
    "replies_count": serializers.IntegerField(),
    "in_reply_to_id": serializers.CharField(allow_null=True),
    "in_reply_to_account_id": serializers.CharField(allow_null=True),
    "favourited": serializers.BooleanField(),
    "reblogged": serializers.BooleanField(),
}
STATUS = inline_serializer(
    name="Status",
    fields={
        **_STATUS_FIELDS,
        "reblog": inline_serializer(name="RebloggedStatus", fields=_STATUS_FIELDS, allow_null=True),
    },
)
DELETED_STATUS = inline_serializer(
    name="DeletedStatus", fields={**_STATUS_FIELDS, "text": serializers.CharField()}
)
RELATIONSHIP = inline_serializer(
    name="Relationship",
    fields={
        name: serializers.CharField() if name == "id" else serializers.BooleanField()
        for name in ("id", "following", "followed_by", "blocking", "blocked_by", "muting", "requested")
    },
)
CONTEXT = inline_serializer(
    name="Context",
    fields={"ancestors": STATUS.__class__(many=True), "descendants": STATUS.__class__(many=True)},
)
SEARCH = inline_serializer(
    name="Search",
    fields={
        "accounts": ACCOUNT.__class__(many=True),
        "statuses": STATUS.__class__(many=True),
        "hashtags": serializers.ListField(child=serializers.DictField()),
    },
)
_MARKER = inline_serializer(
    name="Marker",
    fields={
        "last_read_id": serializers.CharField(),
        "version": serializers.IntegerField(),
        "updated_at": serializers.CharField(),
    },
)
MARKERS = inline_serializer(
    name="Markers",
    fields={"home": _MARKER.__class__(required=False), "notifications": _MARKER.__class__(required=False)},
)
STATUS_CREATE = inline_serializer(
    name="StatusCreate",
    fields={
        "status": serializers.CharField(),
        "in_reply_to_id": serializers.CharField(required=False),
        "media_ids": serializers.ListField(child=serializers.CharField(), required=False),
        "sensitive": serializers.BooleanField(required=False),
        "spoiler_text": serializers.CharField(required=False, allow_blank=True),
        "visibility": serializers.ChoiceField(["public", "unlisted"], required=False),
    },
)
MARKERS_SET = inline_serializer(
    name="MarkersSet",
    fields={"home": inline_serializer(name="MarkerSet", fields={"last_read_id": serializers.CharField()})},
)


def window_parameters(maximum: int) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("limit", int, description=f"Page size (default 20 or 40, at most {maximum})."),
        OpenApiParameter("max_id", str, description="Older than this id (the Link header's next)."),
        OpenApiParameter("since_id", str, description="The newest ones newer than this id."),
        OpenApiParameter("min_id", str, description="The ones immediately newer than this id (prev)."),
    ]


def flags(*names: str) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, bool) for name in names]


class MastodonAutoSchema(AutoSchema):
    """Adds the error responses a Mastodon operation can give, in Mastodon's ``{"error"}``
    body: 401, 403 (a token without the scope, or refused), 404, 400/413/415 for bodies, 422
    (invalid parameters), 429 and 503."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403", "404", "422", "429", "503"]  # 404: unknown ids in paths or params
        if self.method.upper() in {"POST", "PUT", "PATCH"}:
            codes += ["400", "413", "415"]
        for code in sorted(set(codes)):
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR, code, direction=direction)
        return responses
