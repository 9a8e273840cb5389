"""tests.support, the one helper for real processes: ports, waiting, and a Celery worker
that fails fast and loudly when it cannot boot."""

from __future__ import annotations

import time

import pytest

from tests.support.celery import celery_worker
from tests.support.procs import child_env, free_ports, wait_for


def test_free_ports_are_distinct():
    ports = free_ports(12)
    assert len(set(ports)) == 12 and all(1024 < port < 65536 for port in ports)


def test_wait_for_returns_the_first_true_result_and_names_what_it_waited_for():
    calls = iter([0, None, ValueError("not yet"), "done"])

    def probe():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_for(probe, timeout=5, what="the probe", interval=0.001, ignore=(ValueError,)) == "done"

    def refused():
        raise ConnectionError("nope")

    with pytest.raises(TimeoutError, match=r"waiting for the answer \(last error: nope\)"):
        wait_for(refused, timeout=0.05, what="the answer", ignore=(ConnectionError,))


def test_a_worker_that_cannot_boot_fails_at_once_with_its_log():
    env = child_env(DJANGO_SETTINGS_MODULE="feedsite.no_such_settings")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited before it was ready") as error, celery_worker(env):
        pass
    assert time.monotonic() - started < 30
    assert "no_such_settings" in str(error.value)
