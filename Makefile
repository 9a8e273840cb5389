# The two commands: `make run` (service + worker, migrated, demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint services venv bench bench-cluster bench-mastodon bench-notifications bench-stream bench-trends soak

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

services: venv
	scripts/services.sh

run: services
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	scripts/serve.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One pytest-xdist worker per core (at most 4: tests/conftest.py), each on its own test
# databases (feedsite/test_settings.py); worksteal evens out the few long real-process tests.
# TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
test: services lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# Fan-out throughput: one Redis vs a 3-master Redis Cluster (its own servers on free ports).
bench-cluster: venv
	$(BIN)/python bench/cluster_fanout.py $(ARGS)

# Benchmarks and the five cost curves, with same-run baselines (docs/performance.md). SCALE=5:
# 100,000 core users and a 1,000,000-account tail.
SCALE ?= 1
bench: services
	@command -v redis-benchmark >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && apt-get install -y -q redis-tools; } || { echo "make bench needs redis-benchmark (Debian: redis-tools)"; exit 1; }
	$(BIN)/python -m bench --scale $(SCALE)
	@if [ "$(SOAK)" != 0 ]; then $(MAKE) --no-print-directory soak; fi

# The live feed's cost to fan-out: inserts/s with 0 vs 1,000 open streams among 10,000 followers,
# one Redis and a 3-master cluster of its own (bench/stream_fanout.py; docs/performance.md "Live feed").
bench-stream: venv
	$(BIN)/python bench/stream_fanout.py $(ARGS)

# Mastodon's home timeline against /api/feed/ for the same readers (bench/mastodon.py).
bench-mastodon: services
	$(BIN)/python -m bench.mastodon --scale $(SCALE) $(ARGS)

bench-notifications: services
	$(BIN)/python -m bench.notifications $(ARGS)

# Trends (/api/trends/posts/, /api/v1/trends/statuses) against the trivial endpoint (bench/trends.py).
bench-trends: services
	$(BIN)/python -m bench.trends --scale $(SCALE) $(ARGS)

# Bounded soak under mixed load (bench/soak.py; docs/performance.md "Soak"); SOAK=0 skips it in make bench.
SOAK ?= 1
SOAK_SECONDS ?= 180
soak: services
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS) $(ARGS)
