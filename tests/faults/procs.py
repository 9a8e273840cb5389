"""Real processes for fault tests: private redis-server and PostgreSQL instances on free
loopback ports (never the shared ones), gunicorn and Celery workers pointed at them by
environment variables, and helpers to kill, stop and restart each of them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
READY_TIMEOUT = 60


def free_port() -> int:
    """A port nothing listens on right now (bind port 0 and let the kernel pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Process:
    """A subprocess in its own session (so a SIGKILL reaches its children too), logging to a
    file the test prints on failure."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = self.log.open("a")
        self.popen = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 20) -> None:
        if not self.alive:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class RedisServer:
    """A private, persistence-free redis-server: it can be killed, flushed and restarted."""

    process: Process
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> RedisServer:
        self.process.start()
        wait_for(self._pings, timeout=10, what=f"redis on {self.port}")
        return self

    def _pings(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self, *, keep_data: bool = False) -> None:
        """SIGKILL: everything is lost, unless ``keep_data`` snapshots it first, as a Redis
        with persistence would restore it on restart."""
        if keep_data:
            self.client().save()
        self.process.kill(signal.SIGKILL)
        if not keep_data:
            (self.process.log.parent / "dump.rdb").unlink(missing_ok=True)


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir, run as the postgres user."""

    datadir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)

    def ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "-l", str(self.datadir / "server.log"), "-w", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"


@dataclass
class Http:
    """A tiny JSON client for a server under test (urllib: no extra dependency)."""

    base: str
    timeout: float = 15

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        return status, headers, (json.loads(raw) if raw else None)


class Stack:
    """Starts and tracks everything a fault test needs; the fixture tears it all down."""

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
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(workdir)]  # fmt: skip
        return RedisServer(self._process(f"redis-{port}", args, dict(os.environ)), port).start()

    def postgres(self) -> PostgresCluster:
        datadir = Path(tempfile.mkdtemp(prefix="feedsite-pg-"))
        shutil.chown(datadir, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(datadir), "-A", "trust",
             "-U", "postgres", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        cluster = PostgresCluster(datadir=datadir, port=free_port())
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    @staticmethod
    def env(*, database_url: str, redis_url: str, timeline_redis_url: str | None = None, **extra: str):
        """Environment for app processes: the production settings module, pointed at the
        given servers (the subprocesses never see the suite's own Redis database)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
        env.update(
            DJANGO_SETTINGS_MODULE="feedsite.settings",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            TIMELINE_REDIS_URL=timeline_redis_url or redis_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            LOG_LEVEL="WARNING",
            **extra,
        )
        return env

    def worker(self, env: dict[str, str], name: str = "worker", *extra_args: str) -> Process:
        args = [sys.executable, "-m", "celery", "-A", "feedsite", "worker", "--concurrency=1",
                "--loglevel=INFO", "--queues=celery,fanout,fanout_bulk", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
                f"--hostname={name}-{free_port()}@%h", *extra_args]  # fmt: skip
        process = self._process(f"{name}-{len(self.processes)}", args, env).start()
        wait_for(
            lambda: " ready." in process.output() or not process.alive,
            timeout=READY_TIMEOUT,
            what="the celery worker",
        )
        assert process.alive, process.output()
        return process

    def gunicorn(self, env: dict[str, str], workers: int = 2) -> tuple[Process, Http]:
        port = free_port()
        args = [sys.executable, "-m", "gunicorn", "feedsite.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--graceful-timeout", "2"]  # fmt: skip
        process = self._process(f"gunicorn-{port}", args, env).start()
        http = Http(f"http://127.0.0.1:{port}")

        def answers() -> bool:
            assert process.alive, process.output()
            try:
                return http.call("GET", "/api/nothing/")[0] == 404
            except OSError:
                return False

        wait_for(answers, timeout=READY_TIMEOUT, what="gunicorn")
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
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def create_database(cluster: PostgresCluster, name: str) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
