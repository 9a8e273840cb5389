"""/api/v1/accounts: the signed-in account, profiles, lookup, an account's statuses, follow /
block / mute and their undo (→ Relationship), relationships, followers and following. Graph
changes go through graph.services."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from feedsite.mastodon.base import MastodonView, param, param_bool, param_list
from feedsite.mastodon.entities import credential_account_entity
from feedsite.mastodon.errors import Unprocessable, service_errors
from feedsite.mastodon.paging import page_window, set_link, window_rows
from feedsite.mastodon.render import accounts_data, site_base, statuses_data
from feedsite.mastodon.schema import ACCOUNT, RELATIONSHIP, STATUS, flags, window_parameters
from feedsite.mastodon.selectors import (
    account_pk,
    account_rows,
    active_account,
    feed_posts_from_models,
    relationships,
)
from feedsite.throttles import FollowThrottle
from graph import services as graph_services
from graph.models import Account, Follow
from graph.selectors import account_has_blocked
from posts.selectors import post_queryset

RELATIONS_MAX = 80  # ids per relationships request


def local_username(request: Request, acct: str) -> str | None:
    """The username in ``acct`` (``name``, ``@name`` or ``name@this-host``); None for another
    server's account."""
    name, _, domain = acct.strip().lstrip("@").partition("@")
    if domain and domain.lower() not in {
        request.get_host().lower(),
        request.get_host().split(":")[0].lower(),
    }:
        return None
    return name


def account_data(request: Request, account: Account) -> dict:
    return accounts_data(account_ids=[account.id], base=site_base(request))[0]


class VerifyCredentialsView(MastodonView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(responses=ACCOUNT)
    def get(self, request: Request) -> Response:
        row = account_rows(account_ids=[request.user.id])[request.user.id]
        return Response(credential_account_entity(row, base=site_base(request)))


class AccountView(MastodonView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(responses=ACCOUNT)
    def get(self, request: Request, account_id: str) -> Response:
        return Response(account_data(request, active_account(account_id)))


class LookupView(MastodonView):
    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=[OpenApiParameter("acct", str, required=True)], responses=ACCOUNT)
    def get(self, request: Request) -> Response:
        acct = param(request, "acct", query=True)
        if not acct:
            raise Unprocessable("acct is required.")
        name = local_username(request, acct)
        account = None if not name else Account.objects.filter(username__iexact=name, is_active=True).first()
        if account is None:
            raise NotFound("Record not found")
        return Response(account_data(request, account))


class AccountStatusesView(MastodonView):
    """The account's posts and shares, newest first. Replies (our comments) are not listed,
    so ``exclude_replies`` changes nothing; ``pinned`` and ``tagged`` pages are empty."""

    required_scopes = {"GET": "read:statuses"}

    @extend_schema(
        parameters=[
            *window_parameters(40),
            *flags("exclude_replies", "exclude_reblogs", "only_media", "pinned"),
            OpenApiParameter("tagged", str),
        ],
        responses=STATUS.__class__(many=True),
    )
    def get(self, request: Request, account_id: str) -> Response:
        author = active_account(account_id)
        if account_has_blocked(blocker_id=author.id, blocked_id=request.user.id):
            raise NotFound("Record not found")
        window = page_window(request)
        param_bool(request, "exclude_replies", query=True)
        if param_bool(request, "pinned", query=True) or param(request, "tagged", query=True):
            return Response([])
        posts = post_queryset(viewer=request.user).filter(author=author)
        if param_bool(request, "exclude_reblogs", query=True):
            posts = posts.filter(repost_of__isnull=True)
        if param_bool(request, "only_media", query=True):
            posts = posts.filter(~Q(media_urls=[]))
        rows, older = window_rows(posts, window)
        data = statuses_data(
            posts=feed_posts_from_models(viewer=request.user, posts=rows),
            viewer_id=request.user.id,
            base=site_base(request),
        )
        return set_link(Response(data), request, [post.id for post in rows], older=older)


def _relation_view(
    verb: str, scope: str, service: Callable[..., bool], roles: tuple[str, str], throttles: tuple = ()
) -> type:
    class RelationView(MastodonView):
        required_scopes = {"POST": scope}
        throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, *throttles]

        @extend_schema(request=None, responses=RELATIONSHIP)
        def post(self, request: Request, account_id: str) -> Response:
            target = active_account(account_id)
            actor_role, target_role = roles
            with service_errors():
                service(**{actor_role: request.user, target_role: target})
            return Response(relationships(viewer_id=request.user.id, account_ids=[target.id])[0])

    RelationView.__name__ = RelationView.__qualname__ = f"{verb.title()}View"
    return RelationView


FOLLOWING = ("follower", "followee")
FollowView = _relation_view(
    "follow", "write:follows", graph_services.follow_create, FOLLOWING, throttles=(FollowThrottle,)
)
UnfollowView = _relation_view("unfollow", "write:follows", graph_services.follow_delete, FOLLOWING)
BlockView = _relation_view("block", "write:blocks", graph_services.block_create, ("blocker", "blocked"))
UnblockView = _relation_view("unblock", "write:blocks", graph_services.block_delete, ("blocker", "blocked"))
MuteView = _relation_view("mute", "write:mutes", graph_services.mute_create, ("muter", "muted"))
UnmuteView = _relation_view("unmute", "write:mutes", graph_services.mute_delete, ("muter", "muted"))


class RelationshipsView(MastodonView):
    required_scopes = {"GET": "read:follows"}

    @extend_schema(
        parameters=[OpenApiParameter("id[]", str, many=True)], responses=RELATIONSHIP.__class__(many=True)
    )
    def get(self, request: Request) -> Response:
        raw = param_list(request, "id", query=True)
        if len(raw) > RELATIONS_MAX:
            raise Unprocessable(f"At most {RELATIONS_MAX} ids per request.")
        ids = []
        for value in raw:
            try:
                ids.append(account_pk(value))
            except NotFound:
                continue  # Mastodon leaves unknown ids out
        known = set(Account.objects.filter(pk__in=ids).values_list("pk", flat=True))
        return Response(relationships(viewer_id=request.user.id, account_ids=[i for i in ids if i in known]))


class FollowEdgesView(MastodonView):
    """GET followers | following: accounts, most recent follow first, paged by the follow id."""

    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=window_parameters(80), responses=ACCOUNT.__class__(many=True))
    def get(self, request: Request, account_id: str, side: str) -> Response:
        account = active_account(account_id)
        if side == "followers":
            edges = Follow.objects.filter(followee=account).values_list("id", "follower_id")
        else:
            edges = Follow.objects.filter(follower=account).values_list("id", "followee_id")
        rows, older = window_rows(edges, page_window(request, default=40, maximum=80))
        data = accounts_data(account_ids=[other for _, other in rows], base=site_base(request))
        return set_link(Response(data), request, [edge for edge, _ in rows], older=older)
