from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from feedsite.mastodon.render import embedded_accounts_clear
from graph.models import Account
from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def fresh_embedded_accounts() -> None:
    embedded_accounts_clear()


@pytest.fixture
def people(db) -> tuple[Account, Account, Account]:
    """alice (who is notified), bob and carol."""
    return (
        AccountFactory(username="alice"),
        AccountFactory(username="bob"),
        AccountFactory(username="carol"),
    )


@pytest.fixture
def hooked(client_for, run_commit_hooks) -> Callable[..., object]:
    """Call an API as ``account`` with its commit hooks run (the notification task, eager)."""

    def call(account: Account, method: str, url: str, data: dict | None = None):
        client: APIClient = client_for(account)
        with run_commit_hooks():
            return getattr(client, method)(url, data, format="json")

    return call
