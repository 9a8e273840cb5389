"""Scope enforcement on bearer tokens: the hierarchy, views' ``required_scopes``, our own
endpoints (read for safe methods, write otherwise), and every /api/v1 and /api/v2 view
declaring its scopes."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from feedsite.oauth.authentication import OUTSIDE_SCOPES
from feedsite.oauth.scopes import ALL_SCOPES, required_scope, scope_covers
from posts.models import Post
from tests.factories import AccountFactory, PostFactory, token_for
from tests.oauth.conftest import assert_mastodon_error


@pytest.mark.parametrize(
    ("granted", "required", "covered"),
    [
        ({"read"}, "read:statuses", True),
        ({"read:statuses"}, "read:statuses", True),
        ({"read:statuses"}, "read", False),
        ({"read:accounts"}, "read:statuses", False),
        ({"write"}, "write:statuses", True),
        ({"read"}, "write:statuses", False),
        ({"follow"}, "write:follows", True),
        ({"follow"}, "read:mutes", True),
        ({"follow"}, "write:statuses", False),
        ({"read:accounts"}, "profile", True),
        ({"profile"}, "read:accounts", False),
        ({"admin:read"}, "admin:read:accounts", True),
        ({"push"}, "", True),
        (set(), "push", False),
    ],
)
def test_scope_hierarchy(granted, required, covered):
    assert scope_covers(granted, required) is covered
    assert required == "" or required in ALL_SCOPES


class Declared(APIView):
    required_scopes = {"GET": "read:statuses", "POST": ""}


def test_required_scope_falls_back_to_read_and_write():
    assert required_scope(Declared(), "GET") == required_scope(Declared(), "HEAD") == "read:statuses"
    assert required_scope(Declared(), "POST") == ""
    assert required_scope(Declared(), "DELETE") == "write"
    assert required_scope(APIView(), "GET") == "read" and required_scope(None, "PATCH") == "write"


class OwnPermissions(APIView):
    """Sets its own (empty) permission classes: authentication still enforces scopes."""

    permission_classes = []
    required_scopes = {"GET": "read:statuses"}

    def get(self, request):
        return Response({"ok": True})


@pytest.mark.django_db
def test_views_with_their_own_permission_classes_are_enforced_too(password_token):
    token = password_token(AccountFactory(), "write")
    request = APIRequestFactory().get("/api/v1/probe", HTTP_AUTHORIZATION=f"Bearer {token}")
    response = OwnPermissions.as_view()(request)
    assert response.status_code == 403 and response.data == {"error": OUTSIDE_SCOPES}
    token = password_token(AccountFactory(), "read:statuses")
    request = APIRequestFactory().get("/api/v1/probe", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert OwnPermissions.as_view()(request).status_code == 200


@pytest.mark.django_db
def test_a_read_only_token_cannot_post_on_our_own_api(bearer, password_token):
    reader = bearer(password_token(AccountFactory(), "read"))
    response = reader.post("/api/posts/", {"body": "hello"}, format="json")
    assert response.status_code == 403 and response.json() == {"detail": OUTSIDE_SCOPES}
    assert not Post.objects.exists()
    assert reader.get("/api/feed/").status_code == 200


@pytest.mark.django_db
def test_a_write_token_posts_and_granular_read_is_not_read(bearer, password_token):
    account = AccountFactory()
    writer = bearer(password_token(account, "write"))
    created = writer.post("/api/posts/", {"body": "via oauth"}, format="json")
    assert created.status_code == 201 and Post.objects.get().author == account
    assert writer.get("/api/feed/").status_code == 403
    assert bearer(password_token(account, "read:statuses")).get("/api/feed/").status_code == 403


@pytest.mark.django_db
def test_app_verify_declares_no_scope(bearer, password_token):
    app_verify = bearer(password_token(AccountFactory(), "push")).get("/api/v1/apps/verify_credentials")
    assert app_verify.status_code == 200  # declares no scope


@pytest.mark.django_db
def test_native_tokens_keep_full_access(client_for):
    account = AccountFactory()
    PostFactory(author=account)
    client = client_for(account)
    assert client.post("/api/posts/", {"body": "token"}, format="json").status_code == 201
    assert token_for(account)


def mastodon_views():
    """(route, view class, initkwargs, methods) for every URL pattern under api/v1 and api/v2."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(("api/v1", "api/v2")):
                found.append((route, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_mastodon_view_declares_its_scopes():
    views = mastodon_views()
    assert any(route.startswith("api/v1/apps") for route, _ in views)
    for route, callback in views:
        cls = getattr(callback, "cls", None)
        assert cls is not None and issubclass(cls, APIView), f"{route}: not a DRF view, scopes unenforced"
        initkwargs = getattr(callback, "initkwargs", {}) or {}
        declared = initkwargs.get("required_scopes", getattr(cls, "required_scopes", None))
        actions = getattr(callback, "actions", None)
        methods = {m.upper() for m in actions} if actions else {
            m.upper() for m in cls.http_method_names if hasattr(cls, m) and m not in ("options", "head")
        }  # fmt: skip
        assert isinstance(declared, dict), f"{route}: no required_scopes"
        missing = methods - set(declared)
        assert not missing, f"{route}: no scope declared for {sorted(missing)}"
        unknown = {scope for scope in declared.values() if scope and scope not in ALL_SCOPES}
        assert not unknown, f"{route}: unknown scopes {unknown}"


@pytest.mark.django_db
def test_unknown_mastodon_paths_are_404_errors(api):
    assert_mastodon_error(api.get("/api/v1/nothing-here"), 404)
    assert_mastodon_error(api.get("/oauth/nothing-here"), 404)
    assert api.get("/api/nothing-here/").json()["detail"]
