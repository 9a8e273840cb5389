"""Settings come from the environment; production mode refuses unsafe defaults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from feedsite.settings import env_bool, env_int
from tests.support.procs import ROOT

SNIPPET = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS, "
    "s.DATABASES['default']['NAME'], s.REDIS_URL)"
)


def settings_in(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", SNIPPET],
        env={**clean, "DJANGO_SETTINGS_MODULE": "feedsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_requires_a_secret_key():
    result = settings_in({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_are_secure():
    result = settings_in({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "feeds.example"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["False", "True", "True", "['feeds.example']"]


def test_database_and_redis_come_from_the_environment():
    result = settings_in(
        {"DATABASE_URL": "postgres://u:p@db.example:5433/other", "REDIS_URL": "redis://cache.example:6380/2"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["other", "redis://cache.example:6380/2"]


def test_every_database_prepares_the_hot_queries():
    """feedsite.db.prepared_cursor relies on prepare_threshold, on the replica too (fan-out's
    follower query may run there)."""
    snippet = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(sorted((alias, db['OPTIONS']['prepare_threshold']) for alias, db in s.DATABASES.items()))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "feedsite.settings"}
    env["DATABASE_REPLICA_URL"] = "postgres://postgres@127.0.0.1:5432/replica"
    command = [sys.executable, "-c", snippet]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('default', 0), ('replica', 0)]"


def test_production_parses_json_bodies_only():
    """Form and multipart are parsed only with DEBUG on, for the browsable API's HTML forms."""
    snippet = (
        "import django; django.setup(); from rest_framework.settings import api_settings as a; "
        "from graph.views import TokenView; "
        "names = lambda classes: [c.__name__ for c in classes]; "
        "print(names(a.DEFAULT_PARSER_CLASSES), names(TokenView.parser_classes))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "feedsite.settings"}
    outputs = {}
    for debug in ("0", "1"):
        command = [sys.executable, "-c", snippet]
        result = subprocess.run(
            command,
            env={**env, "DEBUG": debug, "SECRET_KEY": "x" * 50},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        outputs[debug] = result.stdout.strip()
    assert outputs["0"] == "['JSONParser'] ['JSONParser']"
    both = "['JSONParser', 'FormParser', 'MultiPartParser']"
    assert outputs["1"] == f"{both} {both}"


def check_in(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``manage.py check`` with the production settings module and ``env`` on top."""
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "feedsite.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["DEBUG", "FEED_THROTTLES", "BENCH_ENDPOINTS"])
def test_a_misspelt_boolean_stops_start_up_with_its_name_value_and_spellings(name):
    result = check_in({name: "ture"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}='ture' is not a boolean" in result.stderr
    assert "1/0, true/false, yes/no, on/off" in result.stderr


def test_a_non_integer_stops_start_up_with_its_name_and_value():
    result = check_in({"DB_CONN_MAX_AGE": "6o"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: DB_CONN_MAX_AGE='6o' is not an integer" in result.stderr


def test_good_values_pass_the_check():
    good = {"DEBUG": " Yes ", "FEED_THROTTLES": "OFF", "DB_CONN_MAX_AGE": "", "BENCH_ENDPOINTS": ""}
    result = check_in(good)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("1", True), ("TRUE", True), ("Yes", True), ("on", True), ("0", False), ("false", False),
     ("NO", False), ("Off", False), ("", "default"), (None, "default")],
)  # fmt: skip
def test_env_bool_spellings(monkeypatch, value, parsed):
    if value is None:
        monkeypatch.delenv("FEEDSITE_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("FEEDSITE_TEST_FLAG", value)
    for default in (True, False):
        assert env_bool("FEEDSITE_TEST_FLAG", default) is (default if parsed == "default" else parsed)


@pytest.mark.parametrize("value", ["ture", "2", "y", "enabled"])
def test_env_bool_rejects_anything_else(monkeypatch, value):
    monkeypatch.setenv("FEEDSITE_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match=rf"FEEDSITE_TEST_FLAG='{value}' is not a boolean"):
        env_bool("FEEDSITE_TEST_FLAG", False)


def test_env_int(monkeypatch):
    monkeypatch.setenv("FEEDSITE_TEST_NUMBER", " 42 ")
    assert env_int("FEEDSITE_TEST_NUMBER", 7) == 42
    monkeypatch.setenv("FEEDSITE_TEST_NUMBER", "")
    assert env_int("FEEDSITE_TEST_NUMBER", 7) == 7
    monkeypatch.setenv("FEEDSITE_TEST_NUMBER", "4.2")
    with pytest.raises(ImproperlyConfigured, match=r"FEEDSITE_TEST_NUMBER='4\.2' is not an integer"):
        env_int("FEEDSITE_TEST_NUMBER", 7)
