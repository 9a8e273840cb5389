"""The Mastodon API's own schema (/api/schema/mastodon/) and schemathesis over it: generated
requests (valid and invalid parameters, bodies and ids) signed in as a real account, never a
5xx, statuses, content types and bodies as documented. Our /api/schema/ leaves it out."""

from __future__ import annotations

import schemathesis

from feedsite.wsgi import application
from tests.feedsite.test_schema import CHECKS, SCHEMATHESIS_SETTINGS, signed_in  # noqa: F401  (fixture)

schema = schemathesis.openapi.from_wsgi("/api/schema/mastodon/", application)


def test_the_mastodon_schema_lists_the_endpoints_and_ours_does_not(api, db):
    accept = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}
    paths = set(api.get("/api/schema/mastodon/", **accept).json()["paths"])
    assert {"/api/v1/timelines/home/", "/api/v1/statuses/", "/api/v2/search/"} <= paths
    assert all(path.startswith(("/api/v1/", "/api/v2/")) for path in paths)
    assert not any(path.startswith("/api/v") for path in api.get("/api/schema/", **accept).json()["paths"])


@schema.parametrize()
@SCHEMATHESIS_SETTINGS
def test_mastodon_api_conforms_to_its_schema(case, signed_in):  # noqa: F811
    case.call_and_validate(headers=signed_in, checks=CHECKS)
