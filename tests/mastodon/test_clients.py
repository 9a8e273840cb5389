"""Unmodified Mastodon clients (Mastodon.py 2.3.3, toot 0.52.1: requirements-dev.txt) against
a real gunicorn on the test databases: app registration, the password and the code flow (the
authorize page fetched and its sign-in form submitted over HTTP, CSRF and all), scopes and
revocation. Each flow asserts with the app's verify_credentials and a native endpoint call
with the bearer token.

The resource endpoints (verify_credentials, statuses, timelines, relationships…) join this
file when both halves of the Mastodon API are merged; ``mastodon_login`` and
``toot_login`` give them a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from mastodon import Mastodon
from mastodon.errors import MastodonIllegalArgumentError, MastodonUnauthorizedError
from toot import App, api, auth

from graph.services import block_create, follow_create
from ranking.trends import trends_refresh
from tests.factories import PASSWORD, AccountFactory, PostFactory
from tests.ranking.test_trends import engage
from tests.support.http import gunicorn
from tests.support.procs import suite_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[str]:
    """A real gunicorn (test settings, eager fan-out) on this worker's test databases, one for
    the module: each test's rows are its own (transactional tests empty the tables after)."""
    env = suite_env(FEED_THROTTLES="off")
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    with gunicorn(env) as base:
        yield base


@pytest.fixture
def toot_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """toot keeps its apps and users in $XDG_CONFIG_HOME/toot/config.json: a temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "toot" / "config.json"


def mastodon_app(server: str, scopes: list[str] = SCOPES) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("feedsite tests", scopes=scopes, api_base_url=server)
    return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server)


def mastodon_login(server: str, account, scopes: list[str] = SCOPES) -> Mastodon:
    """Mastodon.py signed in as ``account`` with the password grant."""
    client = mastodon_app(server, scopes)
    client.log_in(account.username, PASSWORD, scopes=scopes)
    return client


def authorize_code(url: str, login: str, password: str = PASSWORD) -> str:
    """What a person does in a browser: open the authorize page, sign in and approve; the code
    the out-of-band page shows."""
    session = requests.Session()
    page = session.get(url, timeout=15)
    assert page.status_code == 200, page.text[:500]
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert form["csrfmiddlewaretoken"] and session.cookies.get("csrftoken")
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    answer = session.post(
        url.split("/oauth/")[0] + action,
        data={**form, "username": login, "password": password, "allow": "1"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text[:500]
    return re.search(r'<input class="oauth-code" readonly value="([^"]+)"', answer.text).group(1)


def native_post(server: str, token: str, body: str) -> requests.Response:
    return requests.post(
        f"{server}/api/posts/", json={"body": body}, headers={"Authorization": f"Bearer {token}"}, timeout=15
    )


def test_mastodon_py_password_login(server):
    account = AccountFactory()
    client = mastodon_login(server, account)
    assert client.app_verify_credentials()["name"] == "feedsite tests"
    created = native_post(server, client.access_token, "posted by Mastodon.py")
    assert created.status_code == 201, created.text
    assert created.json()["author"]["username"] == account.username


def test_mastodon_py_code_flow_through_the_authorize_form(server):
    account = AccountFactory(email="code@example.org")
    client = mastodon_app(server)
    code = authorize_code(client.auth_request_url(scopes=SCOPES), "code@example.org")
    token = client.log_in(code=code, scopes=SCOPES)
    assert client.app_verify_credentials()["name"] == "feedsite tests"
    assert native_post(server, token, "code flow").status_code == 201
    assert account.username


def test_mastodon_py_read_only_token_is_refused_a_write_and_revoked_token_is_refused(server):
    reader = mastodon_login(server, AccountFactory(), scopes=["read"])
    refused = native_post(server, reader.access_token, "should not post")
    assert refused.status_code == 403 and "outside the authorized scopes" in refused.json()["detail"]
    with pytest.raises(MastodonIllegalArgumentError, match="invalid_scope"):
        # An app registered for read only cannot be granted more.
        mastodon_app(server, ["read"]).log_in(AccountFactory().username, PASSWORD, scopes=SCOPES)
    token = reader.access_token
    reader.revoke_access_token()
    gone = Mastodon(access_token=token, api_base_url=server)
    with pytest.raises(MastodonUnauthorizedError, match="The access token is invalid"):
        gone.app_verify_credentials()


def toot_login(server: str, login: str, password: str = PASSWORD) -> tuple[App, str]:
    """toot's ``login_cli`` up to its verify_credentials call: find the instance, register the
    app (saved in toot's config), the password grant with the login name toot calls email."""
    app = auth.get_or_create_app(server)
    return app, api.login(app, login, password)["access_token"]


def test_toot_login_cli_flow(server, toot_config):
    account = AccountFactory(email="toot@example.org")
    app, token = toot_login(server, "toot@example.org")
    assert toot_config.exists() and app.client_id in toot_config.read_text()
    assert auth.get_or_create_app(server) == app  # the saved app is reused
    verified = requests.get(
        f"{server}/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    assert verified.status_code == 200 and verified.json()["name"] == "toot - a Mastodon CLI client"
    created = native_post(server, token, "posted by toot's token")
    assert created.status_code == 201 and created.json()["author"]["username"] == account.username


def test_toot_browser_login_code_flow(server, toot_config):
    account = AccountFactory()
    app = auth.get_or_create_app(server)
    code = authorize_code(api.get_browser_login_url(app), account.username)  # /oauth/authorize/?…
    token = api.request_access_token(app, code)["access_token"]
    assert native_post(server, token, "toot code flow").status_code == 201


def test_mastodon_py_trending_statuses_and_suggestions(server, redis_store):
    reader, friend, x, y = AccountFactory.create_batch(4)
    follow_create(follower=reader, followee=friend)
    follow_create(follower=friend, followee=x)
    follow_create(follower=friend, followee=y)
    hot, warm = PostFactory(author=x), PostFactory(author=y)
    engage(hot, likes=3)
    engage(warm, likes=1)
    trends_refresh()

    anonymous = Mastodon(api_base_url=server)
    assert [int(s.id) for s in anonymous.trending_statuses()] == [hot.id, warm.id]
    assert [int(s.id) for s in anonymous.trending_statuses(limit=1, offset=1)] == [warm.id]
    client = mastodon_login(server, reader)
    block_create(blocker=reader, blocked=x)
    assert [int(s.id) for s in client.trending_statuses()] == [warm.id]

    assert [int(account.id) for account in client.suggestions()] == [y.id]  # v2, unpacked
    suggested = client.suggestions_v2()
    assert [int(s.account.id) for s in suggested] == [y.id]
    assert suggested[0].source == "past_interactions" and suggested[0].sources == ["friends_of_friends"]
    client.suggestion_delete(y.id)
    assert client.suggestions() == []
