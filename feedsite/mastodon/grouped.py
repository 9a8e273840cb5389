"""GET /api/v2/notifications: Mastodon 4.3's grouped notifications (docs/mastodon.md
#notifications). A page of groups, newest activity first, reads one NotificationGroup row per
group and each group's few newest notifications (feedsite.notifications.selectors), so 100,000
likes of one post are one group and one row to page through."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.mastodon.base import MastodonView
from feedsite.mastodon.entities import iso
from feedsite.mastodon.notifications import FILTERS, _kinds, mastodon_type, statuses_of
from feedsite.mastodon.paging import page_window, set_link, window_rows
from feedsite.mastodon.render import accounts_data, site_base
from feedsite.mastodon.schema import ACCOUNT, STATUS, window_parameters
from feedsite.notifications import selectors

GROUPED = inline_serializer(
    name="GroupedNotificationsResults",
    fields={
        "accounts": ACCOUNT.__class__(many=True),
        "statuses": STATUS.__class__(many=True),
        "notification_groups": serializers.ListField(child=serializers.DictField()),
    },
)


class GroupedNotificationsView(MastodonView):
    required_scopes = {"GET": "read:notifications"}

    @extend_schema(parameters=[*window_parameters(80), *FILTERS], responses=GROUPED)
    def get(self, request: Request) -> Response:
        window = page_window(request, default=40, maximum=80)
        kinds = _kinds(request)
        if kinds is None:
            return Response({"accounts": [], "statuses": [], "notification_groups": []})
        queryset = selectors.group_queryset(recipient=request.user, kinds=kinds)
        groups, older = window_rows(queryset, window, field="most_recent_id")
        heads = selectors.group_heads(recipient=request.user, groups=groups)
        latest = [heads[g.group_key].latest for g in groups if g.group_key in heads]
        statuses = statuses_of(request, latest)
        data, account_ids, status_list = [], [], {}
        for group in groups:
            head = heads.get(group.group_key)
            if head is None or (head.latest.post_id is not None and head.latest.id not in statuses):
                continue
            samples = list(dict.fromkeys(n.actor_id for n in head.notifications))
            account_ids.extend(samples)
            status = statuses.get(head.latest.id)
            if status is not None:
                status_list[status["id"]] = status
            ids = [n.id for n in head.notifications]
            data.append(
                {
                    "group_key": group.group_key,
                    "notifications_count": group.notifications_count,
                    "type": mastodon_type(group.kind),
                    "most_recent_notification_id": str(group.most_recent_id),
                    "page_min_id": str(min(ids)),
                    "page_max_id": str(max(ids)),
                    "latest_page_notification_at": iso(head.latest.created_at),
                    "sample_account_ids": [str(pk) for pk in samples],
                    "status_id": None if status is None else status["id"],
                }
            )
        body = {
            "accounts": accounts_data(account_ids=list(dict.fromkeys(account_ids)), base=site_base(request)),
            "statuses": list(status_list.values()),
            "notification_groups": data,
        }
        return set_link(Response(body), request, [g.most_recent_id for g in groups], older=older)
