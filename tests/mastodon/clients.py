"""What the client tests share (``test_clients*.py``): unmodified Mastodon.py 2.3.3 and toot
0.52.1 (requirements-dev.txt) signed in against the ``server`` fixture's real gunicorn
(tests/mastodon/conftest.py), and a person's part of the code flow (the authorize page's form
submitted over HTTP, CSRF and all)."""

from __future__ import annotations

import re

import pytest
import requests
from mastodon import Mastodon
from toot import App, User, api, auth

from tests.factories import PASSWORD

# What a client test module declares: a real server, and rows committed so gunicorn sees them.
CLIENT_MARKS = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

SCOPES = ["read", "write", "follow", "push"]


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


def toot_login(server: str, login: str, password: str = PASSWORD) -> tuple[App, str]:
    """toot's ``login_cli`` up to its verify_credentials call: find the instance, register the
    app (saved in toot's config), the password grant with the login name toot calls email."""
    app = auth.get_or_create_app(server)
    return app, api.login(app, login, password)["access_token"]


def toot_user(server: str, account) -> tuple[App, User]:
    """The (app, user) context toot's API functions take, signed in as ``account``."""
    app, token = toot_login(server, account.username)
    return app, User(instance=app.instance, username=account.username, access_token=token)
