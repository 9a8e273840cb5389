"""GET /api/v1/timelines/home: the same hybrid feed as /api/feed/ (timelines.public.feed_page,
pushed + pulled, filtered by PostgreSQL; docs/architecture.md#read-path), in Mastodon's id
window: ``max_id`` pages older, ``since_id`` / ``min_id`` newer (feed_page_newer)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.mastodon.base import MastodonView
from feedsite.mastodon.paging import page_window, set_link
from feedsite.mastodon.render import site_base, statuses_data
from feedsite.mastodon.schema import STATUS, window_parameters
from timelines.public import feed_page, feed_page_newer


class HomeTimelineView(MastodonView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(parameters=window_parameters(40), responses=STATUS.__class__(many=True))
    def get(self, request: Request) -> Response:
        window = page_window(request)
        viewer = request.user
        if window.after_id is None:
            page = feed_page(viewer=viewer, before_id=window.max_id, limit=window.limit)
            older = page.next_before is not None
        else:
            page = feed_page_newer(
                viewer=viewer,
                after_id=window.after_id,
                before_id=window.max_id,
                limit=window.limit,
                oldest_first=window.min_id is not None,
            )
            older = True  # the page is above after_id; older posts than it may lie below
        data = statuses_data(posts=page.posts, viewer_id=viewer.id, base=site_base(request))
        return set_link(Response(data), request, [post.id for post in page.posts], older=older)
