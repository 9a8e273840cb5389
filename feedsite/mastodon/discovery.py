"""Discovery: GET /api/v1/trends/statuses (public, ``limit`` / ``offset``, as Mastodon), GET
/api/v2/suggestions and DELETE /api/v1/suggestions/:account_id. The same data as our
/api/trends/posts/ and /api/suggestions/ (ranking.trends, graph.suggestions;
docs/architecture.md#editorial-feed-and-suggestions)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from feedsite.mastodon.base import MastodonView
from feedsite.mastodon.errors import Unprocessable
from feedsite.mastodon.render import accounts_by_id, site_base, statuses_data
from feedsite.mastodon.schema import ACCOUNT, STATUS
from feedsite.mastodon.selectors import account_pk
from graph.suggestions import suggestion_dismiss, suggestions_for
from ranking.trends import trends_page

OFFSET_MAX = 10_000
# Mastodon's legacy ``source`` for each of its ``sources``.
LEGACY_SOURCE = {"friends_of_friends": "past_interactions", "most_followed": "global"}


def _count(request: Request, name: str, *, default: int, maximum: int, minimum: int = 1) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or int(raw) < minimum:
        raise Unprocessable(f"{name} must be an integer of at least {minimum}.")
    return min(int(raw), maximum)


class TrendingStatusesView(MastodonView):
    """Public, as Mastodon's: anonymous requests are served; a signed-in viewer's blocks and
    mutes are filtered out."""

    permission_classes = [AllowAny, *api_settings.DEFAULT_PERMISSION_CLASSES]
    required_scopes = {"GET": "read:statuses"}
    public = True

    @extend_schema(
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=STATUS.__class__(many=True),
    )
    def get(self, request: Request) -> Response:
        limit = _count(request, "limit", default=20, maximum=40)
        offset = _count(request, "offset", default=0, maximum=OFFSET_MAX, minimum=0)
        viewer_id = request.user.id if request.user.is_authenticated else None
        posts, more = trends_page(viewer_id=viewer_id, offset=offset, limit=limit)
        response = Response(statuses_data(posts=posts, viewer_id=viewer_id, base=site_base(request)))
        if more:
            url = replace_query_param(request.build_absolute_uri(), "offset", offset + limit)
            response["Link"] = f'<{url}>; rel="next"'
        return response


class SuggestionsView(MastodonView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=[OpenApiParameter("limit", int)], responses=ACCOUNT.__class__(many=True))
    def get(self, request: Request) -> Response:
        limit = _count(request, "limit", default=40, maximum=80)
        found = suggestions_for(viewer=request.user, limit=limit)
        accounts = accounts_by_id(account_ids=[s.account_id for s in found], base=site_base(request))
        return Response(
            [
                {"source": LEGACY_SOURCE[s.source], "sources": [s.source], "account": accounts[s.account_id]}
                for s in found
                if s.account_id in accounts
            ]
        )


class SuggestionView(MastodonView):
    required_scopes = {"DELETE": "write:accounts"}

    @extend_schema(request=None, responses={200: None})
    def delete(self, request: Request, account_id: str) -> Response:
        suggestion_dismiss(account=request.user, dismissed_id=account_pk(account_id))
        return Response({})
