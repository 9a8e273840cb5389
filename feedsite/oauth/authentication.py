"""``Authorization: Bearer <token>``: DOT's OAuth2Authentication, plus the scope check, done
here because every request that carries a bearer token passes through authentication,
whatever permission classes its view sets (docs/architecture.md#mastodon-oauth).

A bearer token that is unknown, revoked or expired is a 401, never an anonymous request. A
token without the scope the view requires (``feedsite.oauth.scopes.required_scope``) is a 403.
An app-only token (client_credentials) authenticates as the anonymous user, with the token in
``request.auth``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.request import Request

from feedsite.oauth.scopes import required_scope, scope_covers

INVALID_TOKEN = "The access token is invalid"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"


class BearerAuthentication(OAuth2Authentication):
    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        user, token = result
        view = (request.parser_context or {}).get("view")
        if not scope_covers(token.scope.split(), required_scope(view, request.method)):
            raise exceptions.PermissionDenied(OUTSIDE_SCOPES)
        return (user or AnonymousUser()), token
