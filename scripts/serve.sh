#!/usr/bin/env bash
# The API under gunicorn plus a Celery worker, in the foreground. Ctrl-C stops both; if either
# dies, the other is stopped too.
set -uo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

.venv/bin/celery -A feedsite worker --loglevel=INFO --concurrency="${WORKER_CONCURRENCY:-2}" &
worker=$!
.venv/bin/gunicorn feedsite.wsgi --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - --graceful-timeout 5 &
web=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM "$worker" "$web" 2>/dev/null
  wait "$worker" "$web" 2>/dev/null
}
trap stop INT TERM EXIT
echo "serving http://$HOST:$PORT/api/ (worker pid $worker, web pid $web); Ctrl-C stops both"
wait -n "$worker" "$web"
