"""POST /api/v1/apps (register a client) and GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, parsers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedsite.oauth.authentication import INVALID_TOKEN
from feedsite.oauth.serializers import ApplicationCreateSerializer, application_entity
from feedsite.oauth.services import application_create
from feedsite.throttles import AppThrottle

# Mastodon.py posts a form, toot JSON: both, whatever DEBUG says about our own API.
CLIENT_PARSERS = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]


class AppsView(APIView):
    permission_classes = [AllowAny]
    parser_classes = CLIENT_PARSERS
    throttle_classes = [AppThrottle]
    required_scopes = {"POST": ""}

    @extend_schema(
        request=ApplicationCreateSerializer,
        responses={200: dict},
        auth=[],
        tags=["mastodon"],
    )
    def post(self, request: Request) -> Response:
        """Register an OAuth client (Mastodon's CredentialApplication: with its secret)."""
        serializer = ApplicationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app = application_create(
            name=data["client_name"],
            redirect_uris=data["redirect_uris"],
            scopes=data["scopes"],
            website=data["website"],
        )
        return Response(application_entity(app, credentials=True), status=status.HTTP_200_OK)


class AppVerifyView(APIView):
    permission_classes = [AllowAny]
    required_scopes = {"GET": ""}

    @extend_schema(responses={200: dict}, tags=["mastodon"])
    def get(self, request: Request) -> Response:
        """The app the bearer token belongs to (app-only tokens too)."""
        application = getattr(request.auth, "application", None)
        if application is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return Response(application_entity(application, credentials=False))
