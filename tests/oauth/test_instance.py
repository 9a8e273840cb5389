"""GET /api/v1/instance and /api/v2/instance: public, both spellings, the entities the
clients parse (toot builds its Instance dataclass from v1)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from toot.entities import Instance, from_dict

from feedsite.instance import VERSION
from posts.models import BODY_MAX_LENGTH
from tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db


@override_settings(STREAMING_API_URL="ws://stream.example:8001")
def test_v1_instance_with_and_without_slash(api):
    PostFactory(author=AccountFactory())
    body = api.get("/api/v1/instance/").json()
    assert api.get("/api/v1/instance").json() == body
    assert body["uri"] == "testserver" and body["version"] == VERSION == "4.3.0 (compatible; feedsite 1.0)"
    assert body["urls"] == {"streaming_api": "ws://stream.example:8001"}
    assert body["stats"] == {"user_count": 1, "status_count": 1, "domain_count": 0}
    assert body["configuration"]["statuses"]["max_characters"] == BODY_MAX_LENGTH
    assert body["contact_account"] is None and body["rules"] == []
    instance = from_dict(Instance, body)
    assert instance.configuration.statuses.max_characters == BODY_MAX_LENGTH


@override_settings(INSTANCE_DOMAIN="social.example")
def test_v2_instance_and_the_domain_setting(api, bearer):
    body = bearer("a-bad-token-is-ignored-here").get("/api/v2/instance").json()
    assert body["domain"] == "social.example" and body["version"] == VERSION
    assert body["configuration"]["urls"]["streaming"].startswith("ws")
    assert body["configuration"]["translation"] == {"enabled": False}
    assert body["registrations"]["enabled"] is True and body["rules"] == []
    assert api.get("/api/v1/instance").json()["uri"] == "social.example"
