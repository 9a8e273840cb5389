"""Baseline endpoints for ``make bench``, served only when ``BENCH_ENDPOINTS=1`` (never in a
normal deployment): measured on the same server, with the same load generator, as the feed."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedsite.pagination import page_limit, page_response
from posts.serializers import feed_posts_data
from timelines.public import feed_post_ids_from_db, feed_posts_by_ids


class PingView(APIView):
    """The trivial authenticated DRF endpoint: token auth (one query) and a tiny JSON body.
    The ceiling for any authenticated endpoint on this server."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"ok": True, "user": request.user.id})


class PullFeedView(APIView):
    """Pure fan-out-on-read: the page's ids from one SQL query over the follow graph (the
    project's PostgreSQL-only feed, with its per-viewer plan and indexes), then the same
    loading and rendering as ``GET /api/feed/``. No Redis. ``?plan=per-author`` holds it to
    the per-author plan, which the planner must use once followees' posts are sparse."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        limit = page_limit(request)
        viewer = request.user
        per_author = True if request.query_params.get("plan") == "per-author" else None
        ids = feed_post_ids_from_db(
            viewer_id=viewer.id, limit=limit, following_count=viewer.following_count, per_author=per_author
        )
        posts = feed_posts_by_ids(viewer_id=viewer.id, post_ids=ids)
        return page_response(results=feed_posts_data(posts), next_link=None)
