"""Our notifications API, /api/notifications/ (docs/api.md#notifications): keyset pages newest
first (feedsite/pagination.py), kind filters, dismiss, clear, and the unread count above the
read marker the client sets (the same marker as Mastodon's ``notifications``)."""

from __future__ import annotations

from collections.abc import Sequence

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedsite.notifications import selectors, services
from feedsite.notifications.models import Kind, Notification
from feedsite.pagination import KeysetPagination
from feedsite.schema import PAGE_PARAMETERS
from posts.serializers import AuthorSerializer, CommentSerializer
from posts.views import posts_data

SCOPE = "notifications.list"
MAX_ID = 2**63 - 1
_DATETIME = serializers.DateTimeField()

NOTIFICATION = inline_serializer(
    name="Notification",
    fields={
        "id": serializers.IntegerField(),
        "type": serializers.ChoiceField(choices=Kind.values),
        "created_at": serializers.DateTimeField(),
        "account": AuthorSerializer(),
        "post": serializers.JSONField(allow_null=True, help_text="The post (as GET /api/posts/{id}/)."),
        "comment": CommentSerializer(allow_null=True),
    },
)


def _kinds(request: Request, name: str) -> list[str]:
    """``name=a,b`` or ``name=a&name=b``; an unknown kind is a 400."""
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
    unknown = sorted(set(values) - set(Kind.values))
    if unknown:
        raise ValidationError({name: [f"Unknown type {unknown[0]!r}; one of {', '.join(Kind.values)}."]})
    return values


def notifications_data(request: Request, notifications: Sequence[Notification]) -> list[dict]:
    """A page of notifications: one query for the page's posts' likes (posts_data)."""
    posts = {n.post_id: n.post for n in notifications if n.post is not None}
    rendered = {item["id"]: item for item in posts_data(request, list(posts.values()))}
    return [
        {
            "id": n.id,
            "type": n.kind,
            "created_at": _DATETIME.to_representation(n.created_at),
            "account": {"id": n.actor_id, "username": n.actor.username},
            "post": rendered.get(n.post_id),
            "comment": None if n.comment is None else CommentSerializer(n.comment).data,
        }
        for n in notifications
    ]


class NotificationListView(APIView):
    permission_classes = [IsAuthenticated]
    cursor_scope = SCOPE

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("types", str, description="Only these kinds (comma-separated)."),
            OpenApiParameter("exclude_types", str, description="Not these kinds (comma-separated)."),
        ],
        responses=inline_serializer(
            name="PaginatedNotificationList",
            fields={
                "results": NOTIFICATION.__class__(many=True),
                "next": serializers.URLField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        kinds = selectors.kinds_filter(
            types=_kinds(request, "types"), exclude_types=_kinds(request, "exclude_types")
        )
        queryset = selectors.notification_queryset(recipient=request.user, kinds=kinds)
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(queryset.select_related("actor", "comment__author"), request, self)
        return paginator.get_paginated_response(notifications_data(request, page))


class NotificationDismissView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, notification_id: str) -> Response:
        pk = int(notification_id)
        if pk > MAX_ID or not services.notification_dismiss(recipient=request.user, notification_id=pk):
            raise NotFound("No such notification.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationClearView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.notifications_clear(recipient=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


UNREAD = inline_serializer(
    name="NotificationsUnread",
    fields={"count": serializers.IntegerField(), "last_read_id": serializers.IntegerField(allow_null=True)},
)


def _unread(request: Request) -> Response:
    count, last_read = selectors.unread_count(recipient=request.user)
    last = int(last_read) if last_read is not None and last_read.isdigit() else None
    return Response({"count": count, "last_read_id": last})


class NotificationUnreadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UNREAD)
    def get(self, request: Request) -> Response:
        return _unread(request)


class NotificationReadView(APIView):
    """Set the read marker: notifications up to ``last_read_id`` are read."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=inline_serializer(
            name="NotificationsRead", fields={"last_read_id": serializers.IntegerField()}
        ),
        responses=UNREAD,
    )
    def post(self, request: Request) -> Response:
        raw = request.data.get("last_read_id") if hasattr(request.data, "get") else None
        raw = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise ValidationError({"last_read_id": ["A notification id (digits) is required."]})
        services.notifications_read(recipient=request.user, last_read_id=int(raw))
        return _unread(request)
