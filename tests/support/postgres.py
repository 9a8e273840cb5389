"""PostgreSQL for tests and bench: a private cluster in a temp dir (fault tests), database
URLs, and creating or recreating a database on a server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def database_url(settings_dict: dict) -> str:
    """The URL of a Django connection's database (``connection.settings_dict``): during the
    suite, this xdist worker's own test database, for subprocesses to use."""
    db = settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def database_recreate(url: str) -> None:
    """Drop (terminating its sessions) and create the database ``url`` names."""
    parsed = urllib.parse.urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir, run as the postgres user."""

    datadir: Path
    port: int

    @classmethod
    def initdb(cls, port: int) -> PostgresCluster:
        datadir = Path(tempfile.mkdtemp(prefix="feedsite-pg-"))
        shutil.chown(datadir, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(datadir), "-A", "trust",
             "-U", "postgres", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        return cls(datadir=datadir, port=port)

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


def create_database(cluster: PostgresCluster, name: str) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
