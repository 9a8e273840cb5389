"""Mastodon's notifications: /api/v1/notifications (the id window, ``types[]`` and
``exclude_types[]``, Link header), one, clear and dismiss, and the grouped
/api/v2/notifications of Mastodon 4.3 (docs/mastodon.md#notifications). The data is our
notifications' (feedsite.notifications); replies are type ``mention``, as Mastodon reports
them."""

from __future__ import annotations

from collections.abc import Sequence

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.mastodon.base import MastodonView, param_list
from feedsite.mastodon.entities import comment_entity, iso
from feedsite.mastodon.paging import page_window, set_link, window_rows
from feedsite.mastodon.render import embedded_accounts, site_base, statuses_data
from feedsite.mastodon.schema import ACCOUNT, STATUS, window_parameters
from feedsite.mastodon.selectors import MAX_ID, feed_posts_from_models
from feedsite.notifications import selectors, services
from feedsite.notifications.models import Kind, Notification
from posts.selectors import post_queryset

# Mastodon's type -> our kinds (a reply is a mention in Mastodon); other Mastodon types match none.
MASTODON_KINDS = {
    "mention": [Kind.REPLY, Kind.MENTION],
    "favourite": [Kind.FAVOURITE],
    "reblog": [Kind.REBLOG],
    "follow": [Kind.FOLLOW],
}
NOTIFICATION = inline_serializer(
    name="MastodonNotification",
    fields={
        "id": serializers.CharField(),
        "type": serializers.CharField(),
        "created_at": serializers.CharField(),
        "group_key": serializers.CharField(),
        "account": ACCOUNT,
        "status": STATUS.__class__(allow_null=True, required=False),
    },
)
FILTERS = [OpenApiParameter("types[]", str, many=True), OpenApiParameter("exclude_types[]", str, many=True)]


def mastodon_type(kind: str) -> str:
    return "mention" if kind == Kind.REPLY else kind


def _kinds(request: Request):
    def ours(name: str) -> list[str]:
        return [
            kind for value in param_list(request, name, query=True) for kind in MASTODON_KINDS.get(value, [])
        ]

    types = param_list(request, "types", query=True)
    if types and not ours("types"):
        return None  # only types we never have: nothing matches
    return selectors.kinds_filter(types=ours("types"), exclude_types=ours("exclude_types"))


def statuses_of(request: Request, notifications: Sequence[Notification]) -> dict[int, dict]:
    """The Status of each notification that has one (a comment's reply Status, else the
    post's), by notification id: a constant number of queries for the page."""
    base = site_base(request)
    post_ids = {n.post_id for n in notifications if n.post_id is not None and n.comment_id is None}
    posts = list(post_queryset(viewer=request.user).filter(pk__in=post_ids)) if post_ids else []
    rendered = statuses_data(
        posts=feed_posts_from_models(viewer=request.user, posts=posts), viewer_id=request.user.id, base=base
    )
    by_post = {int(entity["id"]): entity for entity in rendered}
    comments = [n.comment for n in notifications if n.comment is not None]
    accounts = embedded_accounts(account_ids=[c.author_id for c in comments], base=base)
    found = {}
    for n in notifications:
        if n.comment is not None:
            post_author = n.recipient_id if n.kind == Kind.REPLY else n.post.author_id
            found[n.id] = comment_entity(n.comment, post_author_id=post_author, accounts=accounts, base=base)
        elif n.post_id in by_post:
            found[n.id] = by_post[n.post_id]
    return found


def notifications_data(request: Request, notifications: Sequence[Notification]) -> list[dict]:
    accounts = embedded_accounts(account_ids=[n.actor_id for n in notifications], base=site_base(request))
    statuses = statuses_of(request, notifications)
    data = []
    for n in notifications:
        if n.actor_id not in accounts or (n.post_id is not None and n.id not in statuses):
            continue  # its post is no longer shown to the viewer
        entity = {
            "id": str(n.id),
            "type": mastodon_type(n.kind),
            "created_at": iso(n.created_at),
            "group_key": n.group_key,
            "account": accounts[n.actor_id],
        }
        if n.id in statuses:
            entity["status"] = statuses[n.id]
        data.append(entity)
    return data


class NotificationsView(MastodonView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(parameters=[*window_parameters(80), *FILTERS], responses=NOTIFICATION.__class__(many=True))
    def get(self, request: Request) -> Response:
        window = page_window(request, default=40, maximum=80)
        kinds = _kinds(request)
        if kinds is None:
            return Response([])
        queryset = selectors.notification_queryset(recipient=request.user, kinds=kinds)
        rows, older = window_rows(queryset, window)
        return set_link(
            Response(notifications_data(request, rows)), request, [n.id for n in rows], older=older
        )


def _own(request: Request, raw: str) -> Notification:
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        raise NotFound("Record not found")
    found = selectors.notification_queryset(recipient=request.user).filter(pk=int(raw)).first()
    if found is None:
        raise NotFound("Record not found")
    return found


class NotificationView(MastodonView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(responses=NOTIFICATION)
    def get(self, request: Request, notification_id: str) -> Response:
        data = notifications_data(request, [_own(request, notification_id)])
        if not data:
            raise NotFound("Record not found")
        return Response(data[0])


class NotificationDismissView(MastodonView):
    required_scopes = {"POST": "write:notifications"}

    @extend_schema(request=None, responses={200: inline_serializer(name="Empty", fields={})})
    def post(self, request: Request, notification_id: str) -> Response:
        notification = _own(request, notification_id)
        services.notification_dismiss(recipient=request.user, notification_id=notification.pk)
        return Response({})


class NotificationsClearView(MastodonView):
    required_scopes = {"POST": "write:notifications"}

    @extend_schema(request=None, responses={200: inline_serializer(name="Empty", fields={})})
    def post(self, request: Request) -> Response:
        services.notifications_clear(recipient=request.user)
        return Response({})
