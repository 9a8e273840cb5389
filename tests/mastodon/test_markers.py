"""Markers: the home read position, stored in PostgreSQL, versioned, form or JSON."""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from feedsite.mastodon.base import MastodonView
from feedsite.mastodon.models import Marker
from tests.factories import AccountFactory
from tests.mastodon.conftest import error_message

pytestmark = pytest.mark.django_db


def test_markers_round_trip(client_for):
    me = AccountFactory()
    laptop, phone = client_for(me), client_for(me)
    assert laptop.get("/api/v1/markers?timeline[]=home").json() == {}
    first = laptop.post("/api/v1/markers", {"home[last_read_id]": "105"}).json()["home"]
    assert first["last_read_id"] == "105" and first["version"] == 0 and first["updated_at"].endswith("Z")
    second = phone.post("/api/v1/markers/", {"home": {"last_read_id": 110}}, format="json").json()["home"]
    assert second["version"] == 1
    assert laptop.get("/api/v1/markers?timeline[]=home").json()["home"]["last_read_id"] == "110"
    assert Marker.objects.get(account=me, timeline="home").last_read_id == "110"
    assert client_for(AccountFactory()).get("/api/v1/markers").json() == {}
    assert laptop.get("/api/v1/markers", {"timeline[]": ["home", "other"]}).json().keys() == {"home"}
    error_message(laptop.get("/api/v1/markers", {"timeline[]": ["x\x00"]}), 422)


@pytest.mark.parametrize(
    "data",
    [{}, {"home[last_read_id]": ""}, {"home[last_read_id]": "x" * 40}, {"home[last_read_id]": "1\x00"}],
)
def test_bad_markers_are_422(client_for, data):
    error_message(client_for(AccountFactory()).post("/api/v1/markers", data), 422)


def _views(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _views(pattern.url_patterns)
        elif getattr(pattern.callback, "view_class", None) is not None:
            yield pattern.callback.view_class


def test_every_mastodon_view_declares_a_scope_per_method():
    views = {view for view in _views(get_resolver().url_patterns) if issubclass(view, MastodonView)}
    assert len(views) >= 20
    for view in views:
        methods = {
            m.upper() for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)
        }
        assert methods and methods == set(view.required_scopes), view
        assert all(
            scope.split(":")[0] in ("read", "write", "follow") for scope in view.required_scopes.values()
        )


def test_every_mastodon_endpoint_refuses_anonymous_requests(api):
    v2 = ("^api/v2/search/?$", "^api/v2/suggestions/?$")
    patterns = [p for p in get_resolver().url_patterns if str(p.pattern) in ("api/v1/", *v2)]
    checked = 0
    for pattern in patterns:
        for route in getattr(pattern, "url_patterns", [pattern]):
            view = route.callback.view_class
            if getattr(view, "public", False):  # public as Mastodon's (trends): test_trends.py
                continue
            path = str(route.pattern).strip("^$").replace("/?", "")
            path = path.replace("(?P<account_id>[^/]+)", "1").replace("(?P<status_id>[^/]+)", "1")
            prefix = "/api/v1/" if str(pattern.pattern) == "api/v1/" else "/"
            for method in view.required_scopes:
                response = getattr(api, method.lower())(prefix + path)
                assert response.status_code == 401, (method, prefix + path)
                assert response.json()["error"]
                checked += 1
    assert checked >= 25
