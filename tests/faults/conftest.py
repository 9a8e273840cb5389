"""Fixtures for fault tests (see tests/support/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from feedsite.celery import app as celery_app
from tests.support.stack import Stack


@pytest.fixture
def stack(request, tmp_path) -> Iterator[Stack]:
    built = Stack(tmp_path)
    celery_app.conf.task_always_eager = False  # the test process enqueues to real brokers too
    try:
        yield built
    finally:
        celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(built.logs())
        built.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
