from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from feedsite.pagination import KeysetPagination, page_limit
from feedsite.schema import PAGE_PARAMETERS, paginated
from feedsite.throttles import FollowThrottle, SignupThrottle, TokenThrottle
from graph import services
from graph.models import Account, Follow
from graph.selectors import account_has_blocked
from graph.serializers import AccountCreateSerializer, AccountSerializer
from graph.suggestions import suggestion_dismiss, suggestions_for
from posts.selectors import post_queryset
from posts.serializers import PostSerializer
from posts.views import posts_data
from timelines.models import FeedConfig

ACCOUNT_CREATED = inline_serializer(
    name="AccountCreated",
    fields={
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "token": serializers.CharField(),
    },
)
TOKEN_RESPONSE = inline_serializer(name="Token", fields={"token": serializers.CharField()})
# POST: 201 new, 200 already there; DELETE: 204 (also when there was nothing to undo).
# POST creates the relation (201, or 200 when it already existed); DELETE removes it (204).
RELATION_CREATED = {200: AccountSerializer, 201: AccountSerializer}
RELATION_DELETED = {204: None}


class AccountViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accounts, and the follow / block / mute relations between them."""

    queryset = Account.objects.filter(is_active=True)
    serializer_class = AccountSerializer
    pagination_class = KeysetPagination

    @property
    def cursor_scope(self) -> str:
        return f"accounts.{self.action}"

    @cached_property
    def feed_config(self) -> FeedConfig:
        return FeedConfig.load()

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            return [SignupThrottle()]
        if self.action == "follow":
            return [FollowThrottle()]
        return super().get_throttles()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "feed_config": self.feed_config}

    @extend_schema(request=AccountCreateSerializer, responses={201: ACCOUNT_CREATED})
    def create(self, request: Request) -> Response:
        serializer = AccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account, token = services.account_create(**serializer.validated_data)
        body = {"id": account.id, "username": account.username, "token": token.key}
        return Response(body, status=status.HTTP_201_CREATED)

    def _relation(
        self,
        request: Request,
        create: Callable[..., bool],
        delete: Callable[..., bool],
        roles: tuple[str, str],
    ) -> Response:
        target = self.get_object()
        actor_role, target_role = roles
        if request.method == "DELETE":
            delete(**{actor_role: request.user, target_role: target})
            return Response(status=status.HTTP_204_NO_CONTENT)
        created = create(**{actor_role: request.user, target_role: target})
        target.refresh_from_db(fields=["followers_count", "following_count"])
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(target).data, status=code)

    @extend_schema(methods=["POST"], request=None, responses=RELATION_CREATED)
    @extend_schema(methods=["DELETE"], request=None, responses=RELATION_DELETED)
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def follow(self, request: Request, pk: str | None = None) -> Response:
        return self._relation(
            request, services.follow_create, services.follow_delete, ("follower", "followee")
        )

    @extend_schema(methods=["POST"], request=None, responses=RELATION_CREATED)
    @extend_schema(methods=["DELETE"], request=None, responses=RELATION_DELETED)
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def block(self, request: Request, pk: str | None = None) -> Response:
        return self._relation(request, services.block_create, services.block_delete, ("blocker", "blocked"))

    @extend_schema(methods=["POST"], request=None, responses=RELATION_CREATED)
    @extend_schema(methods=["DELETE"], request=None, responses=RELATION_DELETED)
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def mute(self, request: Request, pk: str | None = None) -> Response:
        return self._relation(request, services.mute_create, services.mute_delete, ("muter", "muted"))

    def _edge_page(self, edges, side: str) -> Response:
        page = self.paginate_queryset(edges.select_related(side))
        accounts = [getattr(edge, side) for edge in page]
        return self.get_paginated_response(self.get_serializer(accounts, many=True).data)

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(AccountSerializer))
    @action(detail=True, methods=["get"])
    def followers(self, request: Request, pk: str | None = None) -> Response:
        """Newest followers first."""
        return self._edge_page(Follow.objects.filter(followee=self.get_object()), "follower")

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(AccountSerializer))
    @action(detail=True, methods=["get"])
    def following(self, request: Request, pk: str | None = None) -> Response:
        """Most recently followed first."""
        return self._edge_page(Follow.objects.filter(follower=self.get_object()), "followee")

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(PostSerializer))
    @action(detail=True, methods=["get"])
    def posts(self, request: Request, pk: str | None = None) -> Response:
        """The account's posts, newest first; 404 if it has blocked you."""
        author = self.get_object()
        if request.user.is_authenticated and account_has_blocked(
            blocker_id=author.id, blocked_id=request.user.id
        ):
            raise NotFound("No Account matches the given query.")
        page = self.paginate_queryset(post_queryset(viewer=request.user).filter(author=author))
        return self.get_paginated_response(posts_data(request, page))


@extend_schema_view(
    post=extend_schema(request=AuthTokenSerializer, responses={200: TOKEN_RESPONSE}, auth=[]),
    delete=extend_schema(request=None, responses={204: None}),
)
class TokenView(ObtainAuthToken):
    """POST: exchange a username and password for the account's token (one message for every
    failure, so it tells nobody which usernames exist). DELETE: revoke the token you sent;
    the next POST issues a new one."""

    # ObtainAuthToken hard-codes form, multipart and JSON; the API's own list instead (settings).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    throttle_classes = [TokenThrottle]

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "DELETE" else []

    def get_throttles(self):
        return [] if self.request.method == "DELETE" else super().get_throttles()

    def delete(self, request: Request) -> Response:
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


SUGGESTION = inline_serializer(
    name="Suggestion",
    fields={
        "account": AccountSerializer(),
        "source": serializers.ChoiceField(choices=["friends_of_friends", "most_followed"]),
        "weight": serializers.IntegerField(),
    },
)


class SuggestionsView(APIView):
    """Accounts to follow (graph.suggestions), best first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PAGE_PARAMETERS[0]],
        responses=inline_serializer(name="Suggestions", fields={"results": SUGGESTION.__class__(many=True)}),
    )
    def get(self, request: Request) -> Response:
        found = suggestions_for(viewer=request.user, limit=page_limit(request))
        accounts = Account.objects.in_bulk([s.account_id for s in found])
        context = {"feed_config": FeedConfig.load()}
        results = [
            {
                "account": AccountSerializer(accounts[s.account_id], context=context).data,
                "source": s.source,
                "weight": s.weight,
            }
            for s in found
            if s.account_id in accounts
        ]
        return Response({"results": results})


class SuggestionView(APIView):
    """DELETE: never suggest this account again (204, also for an unknown account)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        suggestion_dismiss(account=request.user, dismissed_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
