"""API-wide error format."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error


@pytest.mark.parametrize("path", ["/api/nope/", "/api/accounts/1/frobnicate/", "/api/", "/api/feed/x/"])
def test_unknown_api_paths_are_json_404(api, db, path):
    assert assert_error(api.get(path), 404) == f"No API endpoint at {path}."


@pytest.mark.parametrize(
    "path", ["/api/posts/abc/", "/api/accounts/abc/", "/api/posts/99999999999999999999999/"]
)
def test_malformed_ids_are_json_404(api, db, path):
    assert assert_error(api.get(path), 404)


def test_wrong_method_is_json_405(client_for, make_account):
    assert assert_error(client_for(make_account()).put("/api/feed/"), 405) == 'Method "PUT" not allowed.'
