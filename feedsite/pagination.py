"""Opaque, signed keyset cursors and the ``limit`` parameter, shared by every list endpoint.

A cursor names the last id a client has seen ("give me what is older than this"), the way DRF's
CursorPagination and Mastodon's ``max_id`` do: new rows arriving at the top never shift a page,
so walking pages never repeats or skips a row. Cursors are signed (django.core.signing) with a
salt per endpoint, so a tampered cursor, or one from another endpoint, is a 400 rather than a
surprise. This is the one cursor codec: a list whose position is more than an id (the ranked
feed, ranking/cursor.py) puts its own payload in it with ``cursor_payload_encode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_MAX_LENGTH = 512


def page_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    # Plain ASCII digits only: int() would also take " 3", "+3", "1_0" and non-ASCII digits.
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be an integer from 1 to {MAX_LIMIT}."]})
    return limit


def cursor_invalid() -> ValidationError:
    """The 400 for a cursor that is too long, tampered with, from another endpoint or malformed."""
    return ValidationError({"cursor": ["Invalid or tampered cursor."]})


def cursor_payload_encode(*, scope: str, payload: dict[str, Any], compress: bool = False) -> str:
    """Any JSON payload as a cursor of ``scope``: signed with the scope's own salt."""
    return signing.dumps(payload, salt=f"feedsite.cursor.{scope}", compress=compress)


def cursor_payload_decode(*, scope: str, token: str, max_length: int = CURSOR_MAX_LENGTH) -> dict[str, Any]:
    """The payload of a cursor that ``cursor_payload_encode`` made for ``scope``, or a 400."""
    if len(token) > max_length:
        raise cursor_invalid()
    try:
        payload = signing.loads(token, salt=f"feedsite.cursor.{scope}")
    except signing.BadSignature:
        raise cursor_invalid() from None
    if not isinstance(payload, dict):
        raise cursor_invalid()
    return payload


def cursor_encode(*, scope: str, before_id: int) -> str:
    return cursor_payload_encode(scope=scope, payload={"b": before_id})


def cursor_decode(*, scope: str, request: Request) -> int | None:
    """The ``before`` id carried by the request's cursor, or None for the first page."""
    token = request.query_params.get("cursor")
    if token is None or token == "":
        return None
    before_id = cursor_payload_decode(scope=scope, token=token).get("b")
    if not isinstance(before_id, int) or isinstance(before_id, bool) or before_id < 1:
        raise cursor_invalid()
    return before_id


def next_url(*, request: Request, scope: str, before_id: int | None) -> str | None:
    if before_id is None:
        return None
    url = request.build_absolute_uri()
    return replace_query_param(url, "cursor", cursor_encode(scope=scope, before_id=before_id))


def page_response(*, results: Sequence[Any], next_link: str | None) -> Response:
    return Response({"results": results, "next": next_link})


class KeysetPagination(BasePagination):
    """Newest-first pages over a queryset, keyed on a unique, increasing integer column.

    The view sets ``cursor_scope``; ``cursor_field`` defaults to ``id``.
    """

    cursor_field = "id"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:
        self.request = request
        self.scope = getattr(view, "cursor_scope", view.__class__.__name__)
        limit = page_limit(request)
        before_id = cursor_decode(scope=self.scope, request=request)
        if before_id is not None:
            queryset = queryset.filter(**{f"{self.cursor_field}__lt": before_id})
        rows = list(queryset.order_by(f"-{self.cursor_field}")[: limit + 1])
        self.next_before = getattr(rows[limit - 1], self.cursor_field) if len(rows) > limit else None
        return rows[:limit]

    def get_paginated_response(self, data: Sequence[Any]) -> Response:
        link = next_url(request=self.request, scope=self.scope, before_id=self.next_before)
        return page_response(results=data, next_link=link)
