from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from feedsite.oauth.models import OOB_REDIRECT_URI, Application
from feedsite.oauth.services import application_create
from graph.models import Account
from tests.factories import PASSWORD


@pytest.fixture
def oauth_app(db) -> Application:
    return application_create(
        name="tests",
        redirect_uris=[OOB_REDIRECT_URI, "https://client.example/cb"],
        scopes=["read", "write", "follow", "push"],
        website="https://client.example",
    )


@pytest.fixture
def password_token(api: APIClient, oauth_app: Application) -> Callable[..., str]:
    """A real access token for ``account`` from the password grant, with ``scope``."""

    def issue(account: Account, scope: str = "read write follow push") -> str:
        response = api.post(
            "/oauth/token",
            {
                "grant_type": "password",
                "client_id": oauth_app.client_id,
                "client_secret": oauth_app.client_secret,
                "username": account.username,
                "password": PASSWORD,
                "scope": scope,
            },
        )
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return issue


@pytest.fixture
def bearer() -> Callable[[str], APIClient]:
    def make(token: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


def assert_mastodon_error(response, status: int) -> str:
    """A Mastodon-shaped error: JSON ``{"error": "…"}`` with ``status``; returns the message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"], body
    assert "detail" not in body
    return body["error"]
