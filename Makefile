# The two commands: `make run` (service + worker, migrated, demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint services venv bench-cluster

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

test: services lint
	$(BIN)/pytest

# Fan-out throughput: one Redis vs a 3-master Redis Cluster (its own servers on free ports).
bench-cluster: venv
	$(BIN)/python bench/cluster_fanout.py $(ARGS)
