"""A Python client generated from /api/schema/ with openapi-python-client (the version pinned in
requirements-dev.txt) imports and drives sign-up → follow → post → feed → like against a real
gunicorn (production settings, DEBUG off) on a free port and the test database. It is how a
third party would use the schema (docs/api.md, "Generate a client"), so it catches a schema that validates
but cannot be turned into a working client."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings

from tests.support.stack import Stack, suite_database_url

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

PACKAGE = "feedsite_client"
PASSWORD = "a-long-passphrase-42"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Base URL of a real gunicorn on the test database and the test Redis database; fan-out
    runs eagerly in the web process, so a post is in its followers' timelines on commit."""
    stack = Stack(tmp_path)
    env = Stack.env(
        database_url=suite_database_url(),
        redis_url=settings.REDIS_URL,
        DEBUG="0",
        SECRET_KEY="generated-client-test-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
    )
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    try:
        _, http = stack.gunicorn(env, workers=1)
        yield http.base
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.close()


@pytest.fixture
def generated(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The client package, generated from the running server's schema into a temp dir and
    imported from there."""
    out = tmp_path / "client"
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--url", f"{server}/api/schema/",
         "--meta", "none", "--fail-on-warning", "--output-path", str(out / PACKAGE)],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr  # a warning means pieces left out
    monkeypatch.syspath_prepend(str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_generated_client_signs_up_follows_posts_reads_the_feed_and_likes(server, generated):
    accounts_create = importlib.import_module(f"{PACKAGE}.api.accounts.accounts_create")
    accounts_follow_create = importlib.import_module(f"{PACKAGE}.api.accounts.accounts_follow_create")
    auth_token_create = importlib.import_module(f"{PACKAGE}.api.auth.auth_token_create")
    posts_create = importlib.import_module(f"{PACKAGE}.api.posts.posts_create")
    posts_like_create = importlib.import_module(f"{PACKAGE}.api.posts.posts_like_create")
    posts_retrieve = importlib.import_module(f"{PACKAGE}.api.posts.posts_retrieve")
    feed_list = importlib.import_module(f"{PACKAGE}.api.feed.feed_list")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.Client(base_url=server, raise_on_unexpected_status=True)

    def signed_in(token: str):
        return generated.AuthenticatedClient(
            base_url=server, token=token, prefix="Token", raise_on_unexpected_status=True
        )

    # Sign-up: the answer carries the token.
    alice, bob = (
        accounts_create.sync(
            client=client, body=models.AccountCreateRequest(username=name, password=PASSWORD)
        )
        for name in ("alice", "bob")
    )
    assert isinstance(alice, models.AccountCreated) and isinstance(bob, models.AccountCreated)
    assert (alice.username, bob.username) == ("alice", "bob")
    as_alice = signed_in(alice.token)
    # The password exchange gives the same token.
    token = auth_token_create.sync(
        client=as_alice, body=models.AuthTokenRequest(username="bob", password=PASSWORD)
    )
    assert isinstance(token, models.Token) and token.token == bob.token
    as_bob = signed_in(token.token)

    # Follow.
    followed = accounts_follow_create.sync(bob.id, client=as_alice)
    assert isinstance(followed, models.Account) and followed.id == bob.id

    # Post.
    post = posts_create.sync(
        client=as_bob, body=models.PostCreateRequest(body="hello from a generated client")
    )
    assert isinstance(post, models.Post)
    assert (post.author.id, post.body, post.like_count) == (bob.id, "hello from a generated client", 0)

    # Feed: bob's post is in alice's home feed.
    page = feed_list.sync(client=as_alice)
    assert isinstance(page, models.PaginatedPostList)
    assert [(p.id, p.author.username, p.body) for p in page.results] == [
        (post.id, "bob", "hello from a generated client")
    ]
    assert page.results[0].liked_by_me is False

    # Like: counted once, and shown as alice's own like.
    liked = posts_like_create.sync_detailed(post.id, client=as_alice)
    assert liked.status_code == 201
    assert (liked.parsed.like_count, liked.parsed.liked_by_me) == (1, True)
    seen_by_bob = posts_retrieve.sync(post.id, client=as_bob)
    assert (seen_by_bob.like_count, seen_by_bob.liked_by_me) == (1, False)
    again = feed_list.sync(client=as_alice).results[0]
    assert (again.id, again.like_count, again.liked_by_me) == (post.id, 1, True)
