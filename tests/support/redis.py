"""A private, persistence-free redis-server on a free port (never the shared one)."""

from __future__ import annotations

import signal
from dataclasses import dataclass

import redis

from tests.support.procs import Process, wait_for


def redis_server_args(port: int, workdir: str, *extra: str) -> list[str]:
    """``redis-server`` on 127.0.0.1:``port``, without persistence, files in ``workdir``."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), *extra]  # fmt: skip


def redis_wait(port: int, *, timeout: float = 10) -> None:
    """Until the server on ``port`` answers PING."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    wait_for(
        client.ping, timeout=timeout, what=f"redis on {port}", ignore=(redis.exceptions.ConnectionError,)
    )


@dataclass
class RedisServer:
    """A fault test's redis-server: it can be killed, flushed and restarted."""

    process: Process
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> RedisServer:
        self.process.start()
        redis_wait(self.port)
        return self

    def stop(self, *, keep_data: bool = False) -> None:
        """SIGKILL: everything is lost, unless ``keep_data`` snapshots it first, as a Redis
        with persistence would restore it on restart."""
        if keep_data:
            self.client().save()
        self.process.kill(signal.SIGKILL)
        if not keep_data:
            (self.process.log.parent / "dump.rdb").unlink(missing_ok=True)
