"""GET /api/v2/search and GET /api/v1/accounts/search (Mastodon.py's ``account_search``):
accounts by username prefix, exact match first (what clients use to resolve a name before
following it). Statuses and hashtags are not searched: empty lists; ``resolve`` is ignored
(no federation)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.mastodon.accounts import local_username
from feedsite.mastodon.base import MastodonView, param, param_bool
from feedsite.mastodon.errors import Unprocessable
from feedsite.mastodon.render import accounts_data, site_base
from feedsite.mastodon.schema import ACCOUNT, SEARCH
from graph.models import Account

TYPES = ("accounts", "statuses", "hashtags")
MAX_LIMIT = 40
ACCOUNTS_MAX_LIMIT = 80  # /api/v1/accounts/search, as Mastodon
MAX_OFFSET = 10_000


def _int(request: Request, name: str, default: int) -> int:
    raw = param(request, name, query=True)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise Unprocessable(f"{name} must be a non-negative integer.")
    return int(raw)


def accounts_matching(
    request: Request, *, query: str, limit: int, offset: int, following: bool = False
) -> list[dict]:
    """Active accounts whose username starts with ``query``'s local name, exact match first;
    with ``following``, only those the viewer follows."""
    name = local_username(request, query) if query else None
    if not name:
        return []
    matches = Account.objects.filter(username__istartswith=name, is_active=True)
    if following:
        matches = matches.filter(follower_edges__follower_id=request.user.id)
    exact = Case(When(username__iexact=name, then=Value(0)), default=Value(1), output_field=IntegerField())
    ids = list(
        matches.annotate(exact=exact)
        .order_by("exact", "username")
        .values_list("id", flat=True)[offset : offset + limit]
    )
    return accounts_data(account_ids=ids, base=site_base(request))


class SearchView(MastodonView):
    required_scopes = {"GET": "read:search"}

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("type", str, enum=TYPES),
            OpenApiParameter("resolve", bool),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=SEARCH,
    )
    def get(self, request: Request) -> Response:
        query = (param(request, "q", query=True) or "").strip()
        kind = param(request, "type", query=True) or None
        if kind is not None and kind not in TYPES:
            raise Unprocessable(f"type must be one of: {', '.join(TYPES)}.")
        limit = min(max(_int(request, "limit", 20), 1), MAX_LIMIT)
        offset = min(_int(request, "offset", 0), MAX_OFFSET)
        accounts: list[dict] = []
        if kind in (None, "accounts"):
            accounts = accounts_matching(request, query=query, limit=limit, offset=offset)
        return Response({"accounts": accounts, "statuses": [], "hashtags": []})


class AccountSearchView(MastodonView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
            OpenApiParameter("resolve", bool),
            OpenApiParameter("following", bool),
        ],
        responses=ACCOUNT.__class__(many=True),
    )
    def get(self, request: Request) -> Response:
        query = (param(request, "q", query=True) or "").strip()
        limit = min(max(_int(request, "limit", 40), 1), ACCOUNTS_MAX_LIMIT)
        offset = min(_int(request, "offset", 0), MAX_OFFSET)
        following = param_bool(request, "following", query=True)
        param_bool(request, "resolve", query=True)  # validated, ignored: no federation
        return Response(
            accounts_matching(request, query=query, limit=limit, offset=offset, following=following)
        )
