"""GET/POST /api/v1/markers: the read position in the home (and notifications) timeline, kept
in PostgreSQL and shared by all of a user's clients."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.mastodon import services
from feedsite.mastodon.base import MastodonView, body, param, param_list
from feedsite.mastodon.entities import marker_entity
from feedsite.mastodon.errors import Unprocessable
from feedsite.mastodon.models import Marker, MarkerTimeline
from feedsite.mastodon.schema import MARKERS, MARKERS_SET

LAST_READ_MAX = 32


def _marker_data(marker: Marker) -> dict:
    return marker_entity(
        last_read_id=marker.last_read_id, version=marker.version, updated_at=marker.updated_at
    )


def _posted_position(request: Request, timeline: str) -> str | None:
    """``home[last_read_id]=…`` (form) or ``{"home": {"last_read_id": …}}`` (JSON)."""
    nested = body(request).get(timeline)
    if isinstance(nested, dict):
        value = nested.get("last_read_id")
        value = None if value is None else str(value) if isinstance(value, int | str) else ""
    else:
        value = param(request, f"{timeline}[last_read_id]")
    if value is None:
        return None
    if not value or len(value) > LAST_READ_MAX or not (value.isascii() and value.isprintable()):
        raise Unprocessable(f"{timeline}.last_read_id must be a status id.")
    return value


class MarkersView(MastodonView):
    required_scopes = {"GET": "read:statuses", "POST": "write:statuses"}

    @extend_schema(parameters=[OpenApiParameter("timeline[]", str, many=True)], responses=MARKERS)
    def get(self, request: Request) -> Response:
        asked = param_list(request, "timeline", query=True)
        wanted = [name for name in asked if name in MarkerTimeline.values] if asked else MarkerTimeline.values
        markers = Marker.objects.filter(account=request.user, timeline__in=wanted)
        return Response({marker.timeline: _marker_data(marker) for marker in markers})

    @extend_schema(request=MARKERS_SET, responses=MARKERS)
    def post(self, request: Request) -> Response:
        positions = {
            timeline: value
            for timeline in MarkerTimeline.values
            if (value := _posted_position(request, timeline)) is not None
        }
        if not positions:
            raise Unprocessable("Give home[last_read_id] or notifications[last_read_id].")
        data = {}
        for timeline, last_read_id in positions.items():
            marker = services.marker_set(account=request.user, timeline=timeline, last_read_id=last_read_id)
            data[timeline] = _marker_data(marker)
        return Response(data)
