"""Unmodified toot against a real gunicorn (tests/mastodon/clients.py): its sign-in flows, its
public Python API (toot.api with an App/User context) and the ``toot`` command itself, run in a
subprocess with its own config directory ($XDG_CONFIG_HOME) per person."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from toot import api, auth

from tests.factories import PASSWORD, AccountFactory
from tests.mastodon.clients import CLIENT_MARKS, authorize_code, native_post, toot_login, toot_user

pytestmark = CLIENT_MARKS


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


def test_toot_api_post_follow_timeline_and_unfollow(server, toot_config):
    reader_account, author_account = AccountFactory.create_batch(2)
    reader, author = toot_user(server, reader_account), toot_user(server, author_account)
    found = api.find_account(*reader, author_account.username)  # v2 search, resolve=true
    assert found["acct"] == author_account.username
    assert api.follow(*reader, found["id"]).json()["following"] is True
    assert api.get_relationship(*reader, found["id"])["following"] is True
    posted = api.post_status(*author, "from toot & co").json()
    assert isinstance(posted["id"], str) and posted["content"] == "<p>from toot &amp; co</p>"
    (page,) = [next(api.home_timeline_generator(*reader, limit=5))]
    assert [(s["id"], s["content"]) for s in page] == [(posted["id"], posted["content"])]
    reply = api.post_status(*reader, "nice", in_reply_to_id=posted["id"]).json()
    assert [s["id"] for s in api.context(*author, posted["id"]).json()["descendants"]] == [reply["id"]]
    assert api.favourite(*reader, posted["id"]).json()["favourites_count"] == 1
    assert api.unfollow(*reader, found["id"]).json()["following"] is False
    api.post_status(*author, "unseen")
    assert next(api.home_timeline_generator(*reader, limit=5)) == []
    assert api.verify_credentials(*author).json()["statuses_count"] == 2


def test_toot_idempotency_key_posts_once(server, toot_config, monkeypatch: pytest.MonkeyPatch):
    """toot sends a fresh Idempotency-Key with each post; a retry of one request sends the
    same key again: a fixed uuid4 makes two calls one retried request."""
    account = AccountFactory()
    app, user = toot_user(server, account)
    key = uuid.uuid4()
    monkeypatch.setattr(uuid, "uuid4", lambda: key)
    first = api.post_status(app, user, "only once").json()
    again = api.post_status(app, user, "only once").json()
    monkeypatch.undo()
    other = api.post_status(app, user, "only once").json()
    assert again["id"] == first["id"] != other["id"]
    assert api.verify_credentials(app, user).json()["statuses_count"] == 2


def toot_cli(config_home: Path, *args: str) -> str:
    """The ``toot`` command with its config in ``config_home``: its output (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "toot", "--no-color", *args],
        env={**os.environ, "XDG_CONFIG_HOME": str(config_home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_toot_command_line(server, tmp_path):
    reader_account, author_account = AccountFactory(email="reader@example.org"), AccountFactory()
    reader_home, author_home = tmp_path / "reader", tmp_path / "author"
    # toot's "email" may be the email address or the username.
    for home, account, login in (
        (reader_home, reader_account, reader_account.email),
        (author_home, author_account, author_account.username),
    ):
        signed_in = toot_cli(home, "login_cli", "-i", server, "-e", login, "-p", PASSWORD)
        assert "Successfully logged in" in signed_in
        me = json.loads(toot_cli(home, "whoami", "--json"))
        assert me["username"] == account.username and isinstance(me["id"], str)

    followed = toot_cli(reader_home, "follow", author_account.username)
    assert f"You are now following {author_account.username}" in followed
    assert "Toot posted" in toot_cli(author_home, "post", "hello from the command line")
    timeline = toot_cli(reader_home, "timeline", "--once", "--count", "5")
    assert "hello from the command line" in timeline and author_account.username in timeline

    unfollowed = toot_cli(reader_home, "unfollow", f"@{author_account.username}")
    assert f"You are no longer following @{author_account.username}" in unfollowed
    toot_cli(author_home, "post", "after the unfollow")
    assert "after the unfollow" not in toot_cli(reader_home, "timeline", "--once", "--count", "5")
    assert json.loads(toot_cli(author_home, "whoami", "--json"))["statuses_count"] == 2
