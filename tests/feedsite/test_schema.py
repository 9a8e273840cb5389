"""The OpenAPI schema and property-based tests driven by it (schemathesis, in-process WSGI).

For every operation in /api/schema/, schemathesis generates requests (valid and invalid
bodies, query strings and path ids) and checks each response: never a 5xx, a documented status
code and content type, and a body and headers matching the schema. Requests go out signed in
as a real account, so authenticated paths are exercised, not just their 401s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from feedsite.wsgi import application
from graph.services import follow_create
from tests.factories import AccountFactory, PostFactory, token_for

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CASES: Counter = Counter()


def test_schema_and_docs_are_served_with_local_assets(api, db):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/feed/", "/api/posts/", "/api/accounts/{id}/follow/", "/api/auth/token/"} <= set(paths)
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_request_bodies_are_json_only(api, db):
    """One content type per request body, so generated clients (openapi-python-client) get
    one body type per operation (tests/feedsite/test_generated_client.py)."""
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    bodies = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert {"POST /api/accounts/", "POST /api/auth/token/", "POST /api/posts/"} <= set(bodies)
    assert {name: types for name, types in bodies.items() if types != ["application/json"]} == {}


@pytest.fixture
def signed_in(db) -> Iterator[dict[str, str]]:
    """Headers of a real account with posts of its own and of someone it follows, so feeds
    and lists have content. Requests go straight to the WSGI app, so, as Django's test client
    does, keep request signals from closing the test's database connection."""
    me, other = AccountFactory(), AccountFactory()
    follow_create(follower=me, followee=other)
    PostFactory.create_batch(3, author=other)
    PostFactory(author=me)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Token {token_for(me)}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Also tests/mastodon/test_schema.py's.
SCHEMATHESIS_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)


@schema.parametrize()
@SCHEMATHESIS_SETTINGS
def test_api_conforms_to_its_schema(case, signed_in):
    CASES[f"{case.method} {case.path}"] += 1
    case.call_and_validate(headers=signed_in, checks=CHECKS)


def test_report_case_counts():
    """Runs after the schemathesis tests (same module, in order): prints what they covered."""
    if CASES:
        total = sum(CASES.values())
        print(f"\nschemathesis: {total} requests over {len(CASES)} operations")
        for operation, count in sorted(CASES.items()):
            print(f"  {count:4d}  {operation}")
