"""Baseline endpoints for ``make bench``, served only when ``BENCH_ENDPOINTS=1`` (never in a
normal deployment): measured on the same server, with the same load generator, as the feed."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
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
    """Pure fan-out-on-read: the page's ids from one SQL query over the follow graph, then the
    same loading and rendering as ``GET /api/feed/``. No Redis. Two plans, both fixed here so
    the baselines do not move when the feed's own plan choice changes: by default the one
    query newest first as PostgreSQL plans it (``?plan=postgres``), and ``?plan=per-author``,
    a short index scan per followee, which a large network forces once followees' posts are
    sparse among all posts."""

    permission_classes = [IsAuthenticated]
    PLANS = {"postgres": False, "per-author": True}  # feed_post_ids_from_db's per_author

    def get(self, request: Request) -> Response:
        limit = page_limit(request)
        viewer = request.user
        plan = request.query_params.get("plan", "postgres")
        if plan not in self.PLANS:
            raise ValidationError({"plan": f"one of {', '.join(self.PLANS)}, not {plan!r}"})
        ids = feed_post_ids_from_db(viewer_id=viewer.id, limit=limit, per_author=self.PLANS[plan])
        posts = feed_posts_by_ids(viewer_id=viewer.id, post_ids=ids)
        return page_response(results=feed_posts_data(posts), next_link=None)
