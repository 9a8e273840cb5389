"""GET /healthz, GET /metrics (single process and multiprocess) and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from io import StringIO

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from feedsite.logs import JsonFormatter
from tests.factories import AccountFactory, PostFactory, bulk_followers
from tests.helpers import feed_ids

pytestmark = pytest.mark.django_db


def dead_url(scheme: str = "redis") -> str:
    """A URL on a local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}/0"


def test_healthz_is_200_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"postgresql": "ok", "redis": "ok", "broker": "ok"},
    }


@pytest.mark.parametrize("setting, name", [("CELERY_BROKER_URL", "broker"), ("TIMELINE_REDIS_URL", "redis")])
def test_healthz_is_503_naming_the_dependency_that_failed(client, settings, setting, name):
    setattr(settings, setting, dead_url())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == [name]
    assert body["checks"][name].startswith("error:") and "Connection" in body["checks"][name]


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_postgresql_is_down(client):
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = dead_url().rsplit(":", 1)[1].split("/")[0]
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
    assert response.status_code == 503
    assert response.json()["failed"] == ["postgresql"]


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_count_feed_requests_fanout_and_rebuilds(
    client, client_for, warm_timelines, run_commit_hooks
):
    author = AccountFactory()
    fans = bulk_followers(author, 3)
    warm_timelines(f.id for f in fans)
    reader = AccountFactory()
    before = scrape(client)

    with run_commit_hooks():
        PostFactory(author=author)
    feed_ids(client_for(reader))  # cold: one rebuild, no pulls
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("feedsite_timeline_writes_total", kind="fanout") == 3
    assert delta("feedsite_fanout_chunks_total") == 1
    assert delta("feedsite_fanout_recipients_total") == 3
    assert delta("feedsite_timeline_reads_total", kind="timeline", result="miss") == 1
    assert delta("feedsite_timeline_rebuilds_total", kind="timeline", outcome="built") == 1
    assert delta("feedsite_feed_request_seconds_count", pulls="no") == 1
    assert delta("feedsite_feed_pulls_per_request_count") == 1
    # Read from the broker at scrape time: every fan-out queue, empty now.
    assert after[("feedsite_fanout_queue_depth", (("queue", "fanout"),))] == 0
    assert after[("feedsite_fanout_queue_oldest_seconds", (("queue", "fanout_bulk"),))] == 0
    assert after[("feedsite_broker_up", ())] == 1


def test_metrics_still_answer_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = dead_url()
    samples = scrape(client)
    assert samples[("feedsite_broker_up", ())] == 0


_CHILD = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "feedsite.test_settings"
django.setup()
from feedsite import metrics
if sys.argv[1] == "count":
    metrics.FANOUT_CHUNKS.inc(int(sys.argv[2]))
    metrics.FEED_REQUEST_SECONDS.labels(pulls="yes").observe(0.01)
else:
    body, _ = metrics.metrics_exposition()
    sys.stdout.write(body.decode())
"""


def test_metrics_add_up_across_processes(tmp_path):
    """Multiprocess mode (PROMETHEUS_MULTIPROC_DIR): counts from separate processes, such as
    gunicorn and Celery workers, appear summed in one scrape."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def child(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    child("count", "2")
    child("count", "5")
    text = child("scrape")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("feedsite_fanout_chunks_total", ())] == 7
    assert samples[("feedsite_feed_request_seconds_count", (("pulls", "yes"),))] == 2


def test_fanout_and_rebuild_logs_are_json_with_their_fields(warm_timelines, run_commit_hooks, client_for):
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("timelines")
    logger.addHandler(handler)
    try:
        author = AccountFactory()
        fans = bulk_followers(author, 2)
        warm_timelines(f.id for f in fans)
        with run_commit_hooks():
            post = PostFactory(author=author)
        feed_ids(client_for(author))
    finally:
        logger.removeHandler(handler)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_event = {e.get("event"): e for e in events}
    assert by_event["fanout_start"]["post_id"] == post.id and by_event["fanout_start"]["delivery"] == "push"
    chunk = by_event["fanout_chunk"]
    assert (chunk["post_id"], chunk["recipients"], chunk["written"]) == (post.id, 2, 2) and chunk["ms"] >= 0
    rebuild = by_event["rebuild"]
    assert rebuild["key"] == f"tl:{{{author.id}}}" and rebuild["kind"] == "timeline" and rebuild["ids"] == 1
    assert all({"time", "level", "logger", "message"} <= set(e) for e in events)


def test_log_format_json_selects_the_json_formatter():
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='feedsite.settings';"
        "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    for value, expected in (("json", "json"), ("plain", "plain")):
        env = {**os.environ, "LOG_FORMAT": value}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == expected, done.stderr
