"""GET /api/feed/: parses the request, asks ``timelines.feed.page.feed_page`` (chronological)
or ``ranking.services.ranked_feed_page`` (ranked) for a page, renders it
(docs/architecture.md#read-path)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from feedsite.pagination import cursor_decode, cursor_encode, page_limit, page_response
from feedsite.schema import PAGE_PARAMETERS, paginated
from posts.serializers import PostSerializer, feed_posts_data
from ranking import cursor as ranked_cursor
from ranking.models import RankingConfig
from ranking.services import entry_source, ranked_feed_page
from timelines.feed.page import feed_page, feed_page_newer
from timelines.models import FeedMode

CURSOR_SCOPE = "feed"
FLAGS = {"": False, "0": False, "false": False, "1": True, "true": True}
# Set when Redis was unavailable and the page came from PostgreSQL alone.
DEGRADED_HEADER = "X-Feed-Degraded"
NEWER_PARAMS = ("since_id", "min_id")  # newer-than pages (pull to refresh): timelines.feed.page


def newer_than(request: Request) -> tuple[str, int] | None:
    """("since_id" | "min_id", id) when the request asks for posts newer than an id."""
    asked = [(name, request.query_params[name]) for name in NEWER_PARAMS if request.query_params.get(name)]
    if not asked:
        return None
    if len(asked) > 1:
        raise ValidationError({"since_id": ["Give since_id or min_id, not both."]})
    name, raw = asked[0]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationError({name: ["Must be a post id."]})
    return name, int(raw)


class FeedViewSet(viewsets.GenericViewSet):
    """The signed-in user's home feed: pushed timeline merged with pulled celebrity posts,
    newest first (``mode=chronological``) or best first (``mode=ranked``, see ranking/)."""

    permission_classes = [IsAuthenticated]
    serializer_class = PostSerializer

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("mode", str, enum=FeedMode.values, description="Default: the configured mode."),
            OpenApiParameter("explain", str, enum=sorted(FLAGS), description="1: add why each post is here."),
            OpenApiParameter(
                "since_id", int, description="Chronological: the newest posts newer than this post id."
            ),
            OpenApiParameter(
                "min_id", int, description="Chronological: the posts immediately newer than this post id."
            ),
        ],
        responses=paginated(PostSerializer),
    )
    def list(self, request: Request) -> Response:
        limit = page_limit(request)
        mode = request.query_params.get("mode", "")
        if mode not in FeedMode.values and mode != "":
            raise ValidationError({"mode": [f"Must be one of: {', '.join(FeedMode.values)}."]})
        explain = FLAGS.get(request.query_params.get("explain", "").lower())
        if explain is None:
            raise ValidationError({"explain": ["Must be 1 or 0."]})
        mode = mode or RankingConfig.cached().default_feed_mode
        newer = newer_than(request)
        if newer is not None and mode != FeedMode.CHRONOLOGICAL:
            raise ValidationError({newer[0]: ["Only with mode=chronological."]})

        scores: dict[int, dict] = {}
        trending: set[int] = set()  # ranked mode's cold-start blend (ranking/cold_start.py)
        if mode == FeedMode.RANKED:
            # Degrades on its own when Redis is unavailable (ranking/services.py).
            cursor = ranked_cursor.cursor_decode(request.query_params.get("cursor"))
            ranked = ranked_feed_page(viewer=request.user, cursor=cursor, limit=limit, explain=explain)
            posts, scores, degraded = ranked.posts, ranked.scores, ranked.degraded
            trending = ranked.trending
            token = ranked_cursor.cursor_encode(ranked.next_cursor) if ranked.next_cursor else None
        elif newer is not None:
            return self._newer_page(request, newer=newer, limit=limit)
        else:
            before_id = cursor_decode(scope=CURSOR_SCOPE, request=request)
            page = feed_page(viewer=request.user, before_id=before_id, limit=limit)
            posts, degraded = page.posts, page.degraded
            token = (
                cursor_encode(scope=CURSOR_SCOPE, before_id=page.next_before) if page.next_before else None
            )

        results = feed_posts_data(posts)
        if explain:
            for item, post in zip(results, posts, strict=True):
                item["explain"] = {
                    "source": "trending"
                    if post.id in trending
                    else entry_source(post=post, viewer_id=request.user.id),
                    "score": scores.get(post.id),
                }
        link = None
        if token is not None:
            # The mode goes into the link, so a change of the default mid-scroll cannot
            # hand this cursor to the other mode.
            link = replace_query_param(request.build_absolute_uri(), "mode", mode)
            link = replace_query_param(link, "cursor", token)
        response = page_response(results=results, next_link=link)
        if degraded:
            response[DEGRADED_HEADER] = "redis-unavailable"
        return response

    def _newer_page(self, request: Request, *, newer: tuple[str, int], limit: int) -> Response:
        """Posts newer than an id, newest first. ``next`` fills the rest of the gap: with
        since_id, the older posts above since_id (a cursor below this page); with min_id,
        the newer ones (min_id moved to this page's newest post)."""
        name, after_id = newer
        before_id = cursor_decode(scope=CURSOR_SCOPE, request=request)
        page = feed_page_newer(
            viewer=request.user,
            after_id=after_id,
            before_id=before_id,
            limit=limit,
            oldest_first=name == "min_id",
        )
        link = None
        if page.next_before is not None:
            link = replace_query_param(request.build_absolute_uri(), "mode", FeedMode.CHRONOLOGICAL)
            if name == "since_id":
                link = replace_query_param(
                    link, "cursor", cursor_encode(scope=CURSOR_SCOPE, before_id=page.next_before)
                )
            else:
                link = replace_query_param(link, "min_id", page.posts[0].id)
        response = page_response(results=feed_posts_data(page.posts), next_link=link)
        if page.degraded:
            response[DEGRADED_HEADER] = "redis-unavailable"
        return response
