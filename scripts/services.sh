#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer, starting local ones if they do not, and create the
# application database if it is missing. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/feedsite}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PY=.venv/bin/python

pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
redis_answers() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

local_target() { [[ "$1" == *"@127.0.0.1"* || "$1" == *"@localhost"* || "$1" == *"//127.0.0.1"* || "$1" == *"//localhost"* ]]; }

if local_target "$DATABASE_URL" && ! pg_answers; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    for version in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
    done
  fi
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  pg_answers || { echo "services: PostgreSQL did not start" >&2; exit 1; }
fi

if local_target "$REDIS_URL" && ! redis_answers; then
  echo "services: starting Redis"
  # No persistence: everything in Redis is rebuilt from PostgreSQL. 4 KB list nodes: cheaper
  # fan-out pushes (timelines.store.REDIS_SERVER_SETTINGS).
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --list-max-listpack-size -1 --dir /tmp --logfile /tmp/feedsite-redis.log
  for _ in $(seq 1 30); do redis_answers && break; sleep 0.5; done
  redis_answers || { echo "services: Redis did not start" >&2; exit 1; }
fi

# Create the database named in DATABASE_URL if it does not exist yet.
DATABASE_URL="$DATABASE_URL" "$PY" - <<'PY'
import os
import psycopg
import dj_database_url
from psycopg import sql

cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
params = dict(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
              password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
with psycopg.connect(**{k: v for k, v in params.items() if v is not None or k == "autocommit"}) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
        print(f"services: created database {cfg['NAME']}")
PY
echo "services: PostgreSQL and Redis are up"
