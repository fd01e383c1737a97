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

# argon2 compiled for this CPU. PyPI's wheel runs the SSE2 code: about 17 ms per password check on
# the 2-core server, 7 ms built with AVX2 (the same library, parameters and hashes). Only where the
# CPU has AVX2 and a compiler is present; the build must then verify a hash the wheel made, or the
# wheel is put back. Without a compiler or network the wheel simply stays.
ARGON2_CHECK := $$argon2id$$v=19$$m=19456,t=2,p=1$$bGVhcm5odWItc2FsdC0xNg$$XPUCYu6UlmI6ltwnRipmR+8g2QBwvZ9zqYJXswo1SB4
$(VENV)/.argon2-native: | $(VENV)/.run-deps
	@if grep -qw avx2 /proc/cpuinfo && command -v cc >/dev/null; then \
	  version=$$($(BIN)/python -c "from importlib.metadata import version; print(version('argon2-cffi-bindings'))"); \
	  echo "building argon2-cffi-bindings $$version with AVX2 (once)"; \
	  if ! CFLAGS="-O3 -mavx2" ARGON2_CFFI_USE_SSE2=1 $(BIN)/pip install -q --no-cache-dir --force-reinstall \
	       --no-deps --no-binary argon2-cffi-bindings "argon2-cffi-bindings==$$version" \
	     || ! $(BIN)/python -c "import argon2, sys; sys.exit(not argon2.PasswordHasher().verify(sys.argv[1], 'learnhub-argon2-check'))" '$(ARGON2_CHECK)' 2>/dev/null; then \
	    echo "argon2: the AVX2 build failed; keeping PyPI's wheel"; \
	    $(BIN)/pip install -q --force-reinstall --no-deps "argon2-cffi-bindings==$$version"; \
	  fi; \
	fi
	touch $@

install: $(VENV)/.run-deps $(VENV)/.argon2-native
install-dev: $(VENV)/.dev-deps $(VENV)/.argon2-native

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
