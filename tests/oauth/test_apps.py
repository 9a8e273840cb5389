"""POST /api/v1/apps (form and JSON, as Mastodon.py and toot send it) and
GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

import pytest
from django.test import override_settings

from feedsite.oauth.models import Application
from tests.factories import AccountFactory
from tests.oauth.conftest import assert_mastodon_error

pytestmark = pytest.mark.django_db

TOOT = {"client_name": "toot", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow",
        "website": "https://toot.bezdomni.net"}  # fmt: skip


def test_register_with_json_returns_the_credential_application(api):
    response = api.post("/api/v1/apps", TOOT, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    app = Application.objects.get(client_id=body["client_id"])
    assert body == {
        "id": str(app.id),
        "name": "toot",
        "website": "https://toot.bezdomni.net",
        "scopes": ["read", "write", "follow"],
        "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"],
        "vapid_key": None,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
    }
    assert len(body["client_secret"]) >= 40


def test_register_with_a_form_and_trailing_slash_newline_separated_uris(api):
    data = {"client_name": "py", "scopes": "read write follow push",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob\nhttps://app.example/cb"}  # fmt: skip
    response = api.post("/api/v1/apps/", data, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob", "https://app.example/cb"]
    assert body["website"] is None and body["scopes"] == ["read", "write", "follow", "push"]


def test_scopes_default_to_read(api):
    body = api.post("/api/v1/apps", {"client_name": "x", "redirect_uris": "https://a.example/cb"}).json()
    assert body["scopes"] == ["read"]


@pytest.mark.parametrize(
    "data",
    [
        {"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        {"client_name": "x"},
        {"client_name": "x", "redirect_uris": ""},
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "x", "redirect_uris": "https://a.example/cb#frag"},
        {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read everything"},
        {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "website": "not a url"},
    ],
)
def test_bad_registrations_are_422_with_an_error(api, data):
    message = assert_mastodon_error(api.post("/api/v1/apps", data, format="json"), 422)
    assert message.startswith("Validation failed: ")
    assert not Application.objects.exists()


def test_verify_credentials_with_user_and_app_tokens(api, bearer, oauth_app, password_token):
    token = password_token(AccountFactory(), "read")
    response = bearer(token).get("/api/v1/apps/verify_credentials")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "tests" and "client_secret" not in response.json()
    app_only = api.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": oauth_app.client_id,
            "client_secret": oauth_app.client_secret,
            "scope": "read",
        },
    )
    assert app_only.status_code == 200, app_only.content
    response = bearer(app_only.json()["access_token"]).get("/api/v1/apps/verify_credentials/")
    assert response.status_code == 200 and response.json()["id"] == str(oauth_app.id)


def test_verify_credentials_without_an_oauth_token_is_401(api, bearer, client_for):
    assert_mastodon_error(api.get("/api/v1/apps/verify_credentials"), 401)
    assert_mastodon_error(bearer("nonsense").get("/api/v1/apps/verify_credentials"), 401)
    assert_mastodon_error(client_for(AccountFactory()).get("/api/v1/apps/verify_credentials"), 401)


@override_settings(FEED_THROTTLES=True, FEED_THROTTLE_RATES={"app": "1/hour", "post": "1/minute"})
def test_throttled_registration_is_429_with_rate_limit_headers(api, client_for):
    assert api.post("/api/v1/apps", {**TOOT}, format="json").status_code == 200
    response = api.post("/api/v1/apps", {**TOOT}, format="json")
    assert assert_mastodon_error(response, 429)
    assert response["X-RateLimit-Limit"] == "1" and response["X-RateLimit-Remaining"] == "0"
    assert response["X-RateLimit-Reset"].endswith("Z") and int(response["Retry-After"]) >= 1
    # Our own API: the same headers, its own body.
    poster = client_for(AccountFactory())
    assert poster.post("/api/posts/", {"body": "one"}, format="json").status_code == 201
    own = poster.post("/api/posts/", {"body": "two"}, format="json")
    assert own.status_code == 429 and "detail" in own.json() and own["X-RateLimit-Limit"] == "1"
