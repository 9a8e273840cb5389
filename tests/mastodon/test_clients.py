"""Unmodified Mastodon.py and toot signing in against a real gunicorn (tests/mastodon/clients.py):
app registration, the password and the code flow, scopes and revocation, the instance. Each
flow asserts with the app's verify_credentials and a native endpoint call with the bearer
token. The resource endpoints are driven in ``test_clients_mastodonpy.py`` and
``test_clients_toot.py``."""

from __future__ import annotations

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonIllegalArgumentError, MastodonUnauthorizedError

from graph.services import block_create, follow_create
from ranking.trends import trends_refresh
from tests.factories import PASSWORD, AccountFactory, PostFactory
from tests.mastodon.clients import (
    CLIENT_MARKS,
    SCOPES,
    authorize_code,
    mastodon_app,
    mastodon_login,
    native_post,
)
from tests.ranking.test_trends import engage

pytestmark = CLIENT_MARKS


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
    assert client.account_verify_credentials()["username"] == account.username
    assert native_post(server, token, "code flow").status_code == 201


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
    with pytest.raises(MastodonUnauthorizedError, match="The access token is invalid"):
        gone.account_verify_credentials()


def test_mastodon_py_instance(server):
    client = Mastodon(api_base_url=server)  # no token: the instance is public
    latest = client.instance()  # v2, as the version is ≥ 4.0.0
    assert latest["version"] == "4.3.0 (compatible; feedsite 1.0)"
    assert latest["configuration"]["urls"]["streaming"].startswith("ws")
    assert latest["configuration"]["statuses"]["max_characters"] == 2000
    v1 = client.instance_v1()
    assert v1["version"] == latest["version"] and v1["urls"]["streaming_api"].startswith("ws")
    assert client.retrieve_mastodon_version() == "4.3.0"


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
