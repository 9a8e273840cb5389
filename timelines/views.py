from __future__ import annotations

from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.pagination import cursor_decode, next_url, page_limit, page_response
from posts.serializers import PostSerializer
from posts.views import posts_data
from timelines.services import feed_page

CURSOR_SCOPE = "feed"


class FeedViewSet(viewsets.GenericViewSet):
    """The signed-in user's home feed: pushed timeline merged with pulled celebrity posts."""

    permission_classes = [IsAuthenticated]
    serializer_class = PostSerializer

    def list(self, request: Request) -> Response:
        limit = page_limit(request)
        before_id = cursor_decode(scope=CURSOR_SCOPE, request=request)
        page = feed_page(viewer=request.user, before_id=before_id, limit=limit)
        link = next_url(request=request, scope=CURSOR_SCOPE, before_id=page.next_before)
        return page_response(results=posts_data(request, page.posts), next_link=link)
