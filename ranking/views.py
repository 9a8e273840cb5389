"""GET /api/trends/posts/: the trending posts (ranking.trends), rendered as /api/feed/ renders
posts; public, filtered for the signed-in viewer (docs/api.md#trends)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from feedsite.pagination import (
    cursor_invalid,
    cursor_payload_decode,
    cursor_payload_encode,
    page_limit,
    page_response,
)
from feedsite.schema import PAGE_PARAMETERS, paginated
from posts.serializers import PostSerializer, feed_posts_data
from ranking.trends import trends_page

CURSOR_SCOPE = "trends"


def _offset(request: Request) -> int:
    token = request.query_params.get("cursor")
    if not token:
        return 0
    offset = cursor_payload_decode(scope=CURSOR_SCOPE, token=token).get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise cursor_invalid()
    return offset


class TrendingPostsView(APIView):
    """Best first. A page covers ``limit`` places of the current trends; posts the viewer may
    not see are left out, so a page can hold fewer."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(PostSerializer))
    def get(self, request: Request) -> Response:
        limit = page_limit(request)
        offset = _offset(request)
        viewer_id = request.user.id if request.user.is_authenticated else None
        posts, more = trends_page(viewer_id=viewer_id, offset=offset, limit=limit)
        link = None
        if more:
            token = cursor_payload_encode(scope=CURSOR_SCOPE, payload={"o": offset + limit})
            link = replace_query_param(request.build_absolute_uri(), "cursor", token)
        return page_response(results=feed_posts_data(posts), next_link=link)
