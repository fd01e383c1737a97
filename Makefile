# LearnHub: `make run` serves the app, `make test` runs the whole suite. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export LEARNHUB_CONFIG ?= development
export FLASK_APP := learnhub

.PHONY: run test install install-dev db bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.run-deps $@

install: $(VENV)/.run-deps
install-dev: $(VENV)/.dev-deps

# Upgrade the schema, then load the question bank, the study notes and the demo organisation if absent.
db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask bootstrap

run: db
	@echo "LearnHub on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(BIN)/python -m learnhub.server --host $(HOST) --port $(PORT) --access-log  # learnhub/server.py

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache test-results

# Benchmarks: synthetic province, report/export timings, server + wrk load test (bench/README.md).
# Needs wrk (apt-get install -y wrk) and PostgreSQL on 127.0.0.1:5432 for the second half.
# `make bench BENCH_ARGS=--quick` for a fast check.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
