#!/usr/bin/env bash
# The API under gunicorn, the Celery workers and the stream server (uvicorn: the live feed's
# long-lived connections, which gunicorn's sync workers cannot hold), in the foreground.
# Ctrl-C stops them all; if one dies, the others are stopped too.
set -uo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
STREAM_PORT="${STREAM_PORT:-8001}"
# The instance document advertises the stream server (feedsite/instance.py).
export STREAMING_API_URL="${STREAMING_API_URL:-ws://$HOST:$STREAM_PORT}"
# The demo streams pushed posts too (off by default in settings: its cost, docs/performance.md).
export STREAM_PUBLISH_PUSHED="${STREAM_PUBLISH_PUSHED:-1}"

# Prometheus multiprocess mode: every gunicorn and Celery worker process writes its metrics
# here and GET /metrics adds them up. Emptied at each start (stale files would add up too).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/feedsite-metrics-$PORT}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# Two workers, as in production: big fan-outs (queue fanout_bulk) never hold up small ones
# (fanout) or other tasks (celery). See docs/operations.md "Scaling out". --beat: the periodic fan-out
# sweeper, in exactly one worker.
.venv/bin/celery -A feedsite worker --loglevel=INFO --queues=celery,fanout --hostname=fast@%h \
  --concurrency="${WORKER_CONCURRENCY:-2}" --beat --schedule "${TMPDIR:-/tmp}/feedsite-celerybeat-schedule" &
worker=$!
.venv/bin/celery -A feedsite worker --loglevel=INFO --queues=fanout_bulk --hostname=bulk@%h \
  --concurrency="${BULK_WORKER_CONCURRENCY:-1}" &
bulk_worker=$!
.venv/bin/gunicorn feedsite.wsgi --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - --graceful-timeout 5 &
web=$!
# Every open stream is a socket: give the stream server as many descriptors as allowed.
(ulimit -n "$(ulimit -Hn)" 2>/dev/null
 exec .venv/bin/uvicorn feedsite.streaming.asgi:application --host "$HOST" --port "$STREAM_PORT" \
  --no-access-log --timeout-graceful-shutdown 5) &
streams=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM "$worker" "$bulk_worker" "$web" "$streams" 2>/dev/null
  wait "$worker" "$bulk_worker" "$web" "$streams" 2>/dev/null
}
trap stop INT TERM EXIT
echo "serving http://$HOST:$PORT/api/ and streams on :$STREAM_PORT (workers $worker, $bulk_worker;" \
  "web $web; streams $streams); Ctrl-C stops all"
wait -n "$worker" "$bulk_worker" "$web" "$streams"
