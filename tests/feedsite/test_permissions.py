"""Permission matrix: every endpoint x {anonymous, other user, owner, staff} -> status.

The list of endpoints comes from the URL resolver (DRF endpoints through drf-spectacular's
enumerator, plus every top-level non-API route), so a new endpoint without a row here fails
``test_every_endpoint_has_a_matrix_row``. "Owner" owns the resource in the path: the account
itself, or the author of the post and of the comment. "Staff" is a staff account that owns
nothing.
"""

from __future__ import annotations

import itertools

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient

from posts.services import comment_create
from tests.factories import PASSWORD, AccountFactory, PostFactory, token_for

ROLES = ("anonymous", "other", "owner", "staff")

# (method, path): statuses for (anonymous, other, owner, staff).
MATRIX: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("POST", "/api/accounts/"): (201, 201, 201, 201),
    ("GET", "/api/accounts/{id}/"): (200, 200, 200, 200),
    ("POST", "/api/accounts/{id}/follow/"): (401, 201, 400, 201),
    ("DELETE", "/api/accounts/{id}/follow/"): (401, 204, 204, 204),
    ("POST", "/api/accounts/{id}/block/"): (401, 201, 400, 201),
    ("DELETE", "/api/accounts/{id}/block/"): (401, 204, 204, 204),
    ("POST", "/api/accounts/{id}/mute/"): (401, 201, 400, 201),
    ("DELETE", "/api/accounts/{id}/mute/"): (401, 204, 204, 204),
    ("GET", "/api/accounts/{id}/followers/"): (200, 200, 200, 200),
    ("GET", "/api/accounts/{id}/following/"): (200, 200, 200, 200),
    ("GET", "/api/accounts/{id}/posts/"): (200, 200, 200, 200),
    ("POST", "/api/auth/token/"): (200, 200, 200, 200),
    ("DELETE", "/api/auth/token/"): (401, 204, 204, 204),
    ("GET", "/api/feed/"): (401, 200, 200, 200),
    ("POST", "/api/posts/"): (401, 201, 201, 201),
    ("GET", "/api/posts/{id}/"): (200, 200, 200, 200),
    ("DELETE", "/api/posts/{id}/"): (401, 403, 204, 204),
    ("GET", "/api/posts/{id}/comments/"): (200, 200, 200, 200),
    ("POST", "/api/posts/{id}/comments/"): (401, 201, 201, 201),
    ("DELETE", "/api/posts/{id}/comments/{comment_id}/"): (401, 403, 204, 204),
    ("POST", "/api/posts/{id}/like/"): (401, 201, 201, 201),
    ("DELETE", "/api/posts/{id}/like/"): (401, 204, 204, 204),
    ("POST", "/api/posts/{id}/share/"): (401, 201, 201, 201),
    ("DELETE", "/api/posts/{id}/share/"): (401, 204, 204, 204),
    # Notifications: everyone has their own (an unknown id is a 404, as another's is).
    ("GET", "/api/notifications/"): (401, 200, 200, 200),
    ("POST", "/api/notifications/clear/"): (401, 204, 204, 204),
    ("POST", "/api/notifications/read/"): (401, 400, 400, 400),
    ("GET", "/api/notifications/unread_count/"): (401, 200, 200, 200),
    ("POST", "/api/notifications/{notification_id}/dismiss/"): (401, 404, 404, 404),
    ("GET", "/api/suggestions/"): (401, 200, 200, 200),
    ("DELETE", "/api/suggestions/{id}/"): (401, 204, 204, 204),
    ("GET", "/api/trends/posts/"): (200, 200, 200, 200),
    # Mastodon client API (feedsite.oauth; the OAuth views themselves: tests/oauth/). Our own
    # tokens are not OAuth tokens, so the app behind them is unknown: 401.
    ("POST", "/api/v1/apps"): (200, 200, 200, 200),
    ("GET", "/api/v1/apps/verify_credentials"): (401, 401, 401, 401),
    ("GET", "/api/v1/instance"): (200, 200, 200, 200),
    ("GET", "/api/v2/instance"): (200, 200, 200, 200),
    ("GET", "/api/schema/"): (200, 200, 200, 200),
    ("GET", "/api/schema/mastodon/"): (200, 200, 200, 200),
    ("GET", "/api/docs/"): (200, 200, 200, 200),
    # Outside the API: the admin is staff-only (others are sent to its login page).
    ("GET", "/admin/"): (302, 302, 302, 200),
    ("GET", "/healthz"): (200, 200, 200, 200),
    ("GET", "/metrics"): (200, 200, 200, 200),
}

# Top-level routes that are not DRF endpoints, each with the matrix row(s) that cover it.
NON_DRF_ROUTES = {"admin/": "/admin/", "healthz": "/healthz", "metrics": "/metrics", "^api/": None}
# The Mastodon client API (its own schema; signed in, scopes): tests/mastodon/test_markers.py.
# Top-level DRF routes with a path converter, and the matrix row that covers each.
NON_DRF_ROUTES |= {"api/suggestions/<int:pk>/": "/api/suggestions/{id}/"}
NON_DRF_ROUTES |= {
    "api/v1/": None,
    "^api/v2/search/?$": None,
    "^api/v2/notifications/?$": None,
    "^api/v2/suggestions/?$": None,
}


def drf_endpoints() -> set[tuple[str, str]]:
    endpoints = EndpointEnumerator().get_api_endpoints()
    return {(method, path.replace("{pk}", "{id}")) for path, _, method, _ in endpoints}


def test_every_endpoint_has_a_matrix_row():
    assert drf_endpoints() <= set(MATRIX), "endpoints without a permission-matrix row"
    for pattern in get_resolver().url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route in ("api/", ""):
            continue  # the router and feedsite.oauth.urls: enumerated above
        assert isinstance(pattern, URLPattern | URLResolver)
        covered = route in NON_DRF_ROUTES or any(path == f"/{route}" for _, path in MATRIX)
        assert covered, f"no matrix row for {route}"
    # Mastodon rows (/api/v1, /api/v2) live in the Mastodon schema, not the enumerated one; a row
    # whose endpoint is gone fails its own matrix case with a 404.
    ours = {
        key
        for key in MATRIX
        if key[1].startswith("/api/") and not key[1].startswith(("/api/v1/", "/api/v2/"))
    }
    stale = ours - drf_endpoints()
    assert not stale, f"matrix rows for endpoints that no longer exist: {stale}"


@pytest.fixture
def world(db):
    owner = AccountFactory()
    post = PostFactory(author=owner)
    comment = comment_create(author=owner, post=post, body="a comment")
    return {
        "owner": owner,
        "other": AccountFactory(),
        "staff": AccountFactory(is_staff=True),
        "post": post,
        "comment": comment,
    }


def client_as(role: str, world: dict) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(world[role])}")
    return client


def request_body(method: str, path: str, role: str, world: dict, seq: int) -> dict | None:
    if method != "POST":
        return None
    if path == "/api/accounts/":
        return {"username": f"newcomer{seq}", "password": "a-long-passphrase-42"}
    if path == "/api/auth/token/":
        account = world["owner" if role == "anonymous" else role]
        return {"username": account.username, "password": PASSWORD}
    if path == "/api/posts/":
        return {"body": "hello"}
    if path == "/api/v1/apps":
        return {"client_name": "matrix", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    if path.endswith("/comments/"):
        return {"body": "nice"}
    return None


_seq = itertools.count()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=lambda v: v)
def test_permission_matrix(world, role, method, path):
    expected = MATRIX[(method, path)][ROLES.index(role)]
    owner_id = world["owner"].id if path.startswith("/api/accounts/") else world["post"].id
    url = path.replace("{id}", str(owner_id)).replace("{comment_id}", str(world["comment"].id))
    url = url.replace("{notification_id}", "999999")
    client = client_as(role, world)
    if path == "/admin/" and role != "anonymous":
        client.force_login(world[role])  # the admin is session-authenticated
    body = request_body(method, path, role, world, next(_seq))
    response = getattr(client, method.lower())(url, body, format="json")
    assert response.status_code == expected, (method, url, role, response.content[:300])
