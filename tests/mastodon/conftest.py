from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsite.mastodon.render import embedded_accounts_clear
from graph.services import follow_create
from tests.factories import AccountFactory, PostFactory
from tests.support.http import gunicorn
from tests.support.procs import suite_env

LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def error_message(response, status: int) -> str:
    """The response is a JSON error with ``status`` and Mastodon's body: ``{"error": message}``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return body["error"]


def links(response) -> dict[str, str]:
    """rel → url of a Link header, which must be exactly Mastodon's shape."""
    header = response.get("Link")
    if header is None:
        return {}
    parts = LINK.findall(header)
    assert ", ".join(f'<{url}>; rel="{rel}"' for url, rel in parts) == header
    return {rel: url for url, rel in parts}


@pytest.fixture(autouse=True)
def fresh_embedded_accounts() -> None:
    """The per-process copy of embedded accounts starts empty: database rows roll back."""
    embedded_accounts_clear()


@pytest.fixture
def pair(db, run_commit_hooks):
    """A reader following an author who has three posts."""
    reader, author = AccountFactory.create_batch(2)
    with run_commit_hooks():
        follow_create(follower=reader, followee=author)
        posts = [PostFactory(author=author) for _ in range(3)]
    return reader, author, posts


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[str]:
    """For the client tests (``tests/mastodon/clients.py``): a real gunicorn (test settings,
    eager fan-out) on this worker's test databases, one per module; each test's rows are its
    own (the client tests are transactional: the tables are emptied after each)."""
    env = suite_env(FEED_THROTTLES="off")
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    with gunicorn(env) as base:
        yield base


@pytest.fixture
def toot_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """toot keeps its apps and users in $XDG_CONFIG_HOME/toot/config.json: a temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "toot" / "config.json"
