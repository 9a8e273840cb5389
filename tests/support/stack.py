"""Everything a fault test starts: private redis-server and PostgreSQL instances on free
loopback ports (never the shared ones), gunicorn and Celery workers pointed at them by
environment variables; the ``stack`` fixture (tests/faults/conftest.py) tears it all down."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connection

from tests.support.celery import READY, worker_args
from tests.support.http import Http, gunicorn_args, http_wait
from tests.support.postgres import PostgresCluster, database_url
from tests.support.procs import READY_TIMEOUT, ROOT, Process, child_env, free_port, wait_for
from tests.support.redis import RedisServer, redis_server_args


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[Process] = []
        self.clusters: list[PostgresCluster] = []

    def _process(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        log = self.workdir / name / "out.log" if name.startswith("redis") else self.workdir / f"{name}.log"
        process = Process(name=name, args=args, env=env, log=log)
        self.processes.append(process)
        return process

    def redis(self) -> RedisServer:
        port = free_port()
        workdir = self.workdir / f"redis-{port}"
        workdir.mkdir()
        args = redis_server_args(port, str(workdir))
        return RedisServer(self._process(f"redis-{port}", args, child_env()), port).start()

    def postgres(self) -> PostgresCluster:
        cluster = PostgresCluster.initdb(port=free_port())
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    @staticmethod
    def env(*, database_url: str, redis_url: str, timeline_redis_url: str | None = None, **extra: str):
        """Environment for app processes: the production settings module, pointed at the
        given servers (the subprocesses never see the suite's own Redis database)."""
        return child_env(
            DJANGO_SETTINGS_MODULE="feedsite.settings",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            TIMELINE_REDIS_URL=timeline_redis_url or redis_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            LOG_LEVEL="WARNING",
            **extra,
        )

    def worker(self, env: dict[str, str], name: str = "worker", *extra_args: str) -> Process:
        args = [*worker_args(name=f"{name}-{free_port()}"), *extra_args]
        process = self._process(f"{name}-{len(self.processes)}", args, env).start()
        wait_for(
            lambda: READY in process.output() or not process.alive,
            timeout=READY_TIMEOUT,
            what="the celery worker",
        )
        assert process.alive, process.output()
        return process

    def gunicorn(self, env: dict[str, str], workers: int = 2) -> tuple[Process, Http]:
        port = free_port()
        args = gunicorn_args(port, workers=workers, extra=("--graceful-timeout", "2"))
        process = self._process(f"gunicorn-{port}", args, env).start()
        http = Http(f"http://127.0.0.1:{port}")

        def alive() -> None:
            assert process.alive, process.output()

        http_wait(http, alive=alive)
        return process, http

    def manage(self, env: dict[str, str], *args: str, check: bool = False) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def close(self) -> None:
        for process in reversed(self.processes):
            process.kill(signal.SIGTERM if process.name.startswith("worker") else signal.SIGKILL)
        for cluster in self.clusters:
            with contextlib.suppress(subprocess.CalledProcessError):
                cluster.stop()
            shutil.rmtree(cluster.datadir, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes)


def suite_database_url() -> str:
    """This xdist worker's test database, for the app processes a fault test starts."""
    return database_url(connection.settings_dict)
