"""/oauth/authorize, /oauth/token and /oauth/revoke: the code flow (OOB page and redirect),
PKCE when sent, the password grant by username or email, scopes, revocation, throttles."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client, override_settings
from oauth2_provider.models import AccessToken

from feedsite.oauth.models import OOB_REDIRECT_URI
from tests.factories import PASSWORD, AccountFactory
from tests.oauth.conftest import assert_mastodon_error

pytestmark = pytest.mark.django_db

SCOPE = "read write follow push"


def authorize_url(app, *, redirect_uri=OOB_REDIRECT_URI, scope=SCOPE, slash="", **extra) -> str:
    params = {"client_id": app.client_id, "response_type": "code", "redirect_uri": redirect_uri,
              "scope": scope, **extra}  # fmt: skip
    return f"/oauth/authorize{slash}?{urlencode(params)}"


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def sign_in_and_approve(client: Client, url: str, login: str, password: str = PASSWORD, **post):
    page = client.get(url)
    assert page.status_code == 200, page.content
    form = hidden_fields(page.content.decode())
    return client.post(
        "/oauth/authorize", {**form, "username": login, "password": password, "allow": "1", **post}
    )


def oob_code(response) -> str:
    assert response.status_code == 200, response.content
    (code,) = re.findall(r'<input class="oauth-code" readonly value="([^"]+)"', response.content.decode())
    return code


def exchange(api, app, code, **extra):
    return api.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code": code,
            "redirect_uri": OOB_REDIRECT_URI,
            **extra,
        },
    )


def test_code_flow_with_the_oob_page(api, oauth_app):
    account = AccountFactory()
    client = Client(enforce_csrf_checks=True)
    page = client.get(authorize_url(oauth_app, slash="/"))  # toot's spelling
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="password"' in html and "tests" in html
    code = oob_code(sign_in_and_approve(client, authorize_url(oauth_app), account.username))
    response = exchange(api, oauth_app, code)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == SCOPE
    assert isinstance(body["created_at"], int) and "expires_in" not in body
    token = AccessToken.objects.get(token=body["access_token"])
    assert token.user == account and token.application == oauth_app
    # A code works once.
    assert exchange(api, oauth_app, code).json()["error"] == "invalid_grant"


def test_authorize_post_without_csrf_token_is_refused(oauth_app):
    client = Client(enforce_csrf_checks=True)
    form = hidden_fields(client.get(authorize_url(oauth_app)).content.decode())
    response = client.post(
        "/oauth/authorize",
        {
            **form,
            "username": AccountFactory().username,
            "password": PASSWORD,
            "allow": "1",
            "csrfmiddlewaretoken": "forged",
        },
    )
    assert_mastodon_error(response, 403)


def test_sign_in_by_email_and_wrong_password(api, oauth_app):
    account = AccountFactory(email="Ann@Example.org")
    client = Client()
    wrong = sign_in_and_approve(client, authorize_url(oauth_app), account.username, password="nope")
    assert wrong.status_code == 400 and "Wrong username, email or password." in wrong.content.decode()
    code = oob_code(sign_in_and_approve(client, authorize_url(oauth_app), "ann@example.org"))
    assert exchange(api, oauth_app, code).status_code == 200


def test_signed_in_session_only_approves(oauth_app):
    account = AccountFactory()
    client = Client()
    client.force_login(account)
    page = client.get(authorize_url(oauth_app)).content.decode()
    assert 'name="password"' not in page and account.username in page
    assert oob_code(client.post("/oauth/authorize", {**hidden_fields(page), "allow": "1"}))


def test_deny_and_web_redirects(api, oauth_app):
    client = Client()
    url = authorize_url(oauth_app, redirect_uri="https://client.example/cb", state="xyz")
    page = client.get(url)
    denied = client.post("/oauth/authorize", {**hidden_fields(page.content.decode()), "deny": "1"})
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied["Location"]).query) == {"error": ["access_denied"], "state": ["xyz"]}
    approved = sign_in_and_approve(client, url, AccountFactory().username)
    assert approved.status_code == 302 and approved["Location"].startswith("https://client.example/cb?")
    query = parse_qs(urlsplit(approved["Location"]).query)
    assert query["state"] == ["xyz"]
    response = api.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "client_id": oauth_app.client_id,
            "client_secret": oauth_app.client_secret,
            "code": query["code"][0],
            "redirect_uri": "https://client.example/cb",
        },
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "unknown"}, "invalid_request"),
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
        ({"scope": "read admin:write"}, "invalid_scope"),
    ],
)
def test_bad_authorization_requests_are_oauth_errors(oauth_app, change, error):
    url = authorize_url(oauth_app) + "&" + urlencode(change)
    params = parse_qs(urlsplit(url).query)
    params.update({key: [value] for key, value in change.items()})
    response = Client().get("/oauth/authorize?" + urlencode({k: v[-1] for k, v in params.items()}))
    assert response.status_code in (400, 401), response.content
    body = response.json()
    assert body["error"] == error and "error_description" in body


def test_pkce_is_checked_when_sent(api, oauth_app):
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = authorize_url(oauth_app, code_challenge=challenge, code_challenge_method="S256")
    account = AccountFactory()
    code = oob_code(sign_in_and_approve(Client(), url, account.username))
    assert exchange(api, oauth_app, code, code_verifier="w" * 64).json()["error"] == "invalid_grant"
    code = oob_code(sign_in_and_approve(Client(), url, account.username))
    assert exchange(api, oauth_app, code, code_verifier=verifier).status_code == 200


def password_grant(api, app, username, *, scope=SCOPE, password=PASSWORD, fmt=None):
    data = {"grant_type": "password", "client_id": app.client_id, "client_secret": app.client_secret,
            "username": username, "password": password, "scope": scope}  # fmt: skip
    return api.post("/oauth/token", data, format=fmt)


def test_password_grant_by_username_or_email_form_or_json(api, oauth_app):
    account = AccountFactory(email="bo@example.org")
    for login, fmt in [(account.username, None), ("BO@example.org", "json")]:
        response = password_grant(api, oauth_app, login, fmt=fmt)
        assert response.status_code == 200, response.content
        assert response.json()["scope"] == SCOPE
    bad = password_grant(api, oauth_app, account.username, password="wrong")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_requested_scopes_must_be_registered_granular_ones_are_covered(api, oauth_app):
    oauth_app.scopes = "read write"
    oauth_app.save()
    account = AccountFactory()
    assert (
        password_grant(api, oauth_app, account.username, scope="read write push").json()["error"]
        == "invalid_scope"
    )
    granted = password_grant(api, oauth_app, account.username, scope="read:statuses write:follows")
    assert granted.json()["scope"] == "read:statuses write:follows"
    assert password_grant(api, oauth_app, account.username, scope="").json()["scope"] == "read"


def test_wrong_client_secret_is_refused(api, oauth_app):
    response = api.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": oauth_app.client_id,
            "client_secret": "wrong",
            "scope": "read",
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_revoked_token_is_401_invalid(api, bearer, oauth_app, password_token):
    token = password_token(AccountFactory())
    assert bearer(token).get("/api/feed/").status_code == 200
    response = api.post(
        "/oauth/revoke",
        {"client_id": oauth_app.client_id, "client_secret": oauth_app.client_secret, "token": token},
    )
    assert response.status_code == 200 and response.json() == {}
    assert assert_mastodon_error(bearer(token).get("/api/v1/apps/verify_credentials"), 401) == (
        "The access token is invalid"
    )
    # Our own API: the same refusal in its own format.
    refused = bearer(token).get("/api/feed/")
    assert refused.status_code == 401 and refused.json() == {"detail": "The access token is invalid"}


RATES = {"token": "100/minute", "token_client": "3/minute", "token_account": "2/minute"}


@override_settings(FEED_THROTTLES=True, FEED_THROTTLE_RATES=RATES)
def test_token_endpoint_is_throttled_per_account_and_per_client(api, oauth_app):
    account = AccountFactory(email="cy@example.org")
    assert password_grant(api, oauth_app, account.username).status_code == 200
    assert password_grant(api, oauth_app, account.username.upper(), password="guess").status_code == 400
    response = password_grant(api, oauth_app, account.username)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert response["X-RateLimit-Limit"] == "2" and response["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response["X-RateLimit-Reset"])
    assert int(response["Retry-After"]) >= 1
    # The client id's budget (3) is spent too, whichever account asks next.
    other = password_grant(api, oauth_app, AccountFactory().username)
    assert other.status_code == 429 and other["X-RateLimit-Limit"] == "3"


def test_authorize_without_scope_asks_for_read(oauth_app):
    page = Client().get(authorize_url(oauth_app, scope=""), follow=True)
    assert page.status_code == 200, page.content
    assert hidden_fields(page.content.decode())["scope"] == "read"
