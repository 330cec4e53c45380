# Everything runs from a virtualenv in .venv, created on first use.
# `make run` serves the API on :8000; `make test` runs the whole test suite.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# The project's bytecode, which an editable install otherwise leaves to the first import (never, under
# PYTHONDONTWRITEBYTECODE): about 0.25 s of every process that imports the service, and the tests start hundreds.
# A no-op when it is up to date.
COMPILE := $(BIN)/python -m compileall -q forecasting service

.PHONY: install run test lint clean-venv lock screenshot bench

install: $(STAMP)

# Redone only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# On a fresh machine the retrain takes a minute or two (every model, with its backtest); after that it
# finds the active version and does nothing. Writes need PROVOCAST_API_TOKEN (unset: writes are refused).
run: install
	$(BIN)/provocast db upgrade
	$(BIN)/provocast seed
	$(BIN)/provocast retrain --if-no-active
	$(COMPILE)
	$(BIN)/uvicorn service.main:app --host 0.0.0.0 --port 8000

test: install
	$(COMPILE)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# ruff (lint and format), import-linter (the layer contracts in pyproject.toml) and mypy --strict.
lint: install
	$(BIN)/ruff check forecasting service tests benchmarks deploy
	$(BIN)/ruff format --check forecasting service tests benchmarks deploy
	$(BIN)/lint-imports
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)

# requirements.lock: exact pins of the runtime dependencies, read from .venv; the Docker image installs these.
lock: install
	$(BIN)/python deploy/lock.py

# Benchmarks (not run in CI: minutes of load; see docs/benchmarks.md). wrk comes from Debian's packages.
# BENCH_ARGS=--reuse-artifact skips the retrain and serves the version an earlier run trained.
bench: install
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# docs/dashboard.png: the dashboard in headless Chromium (apt-get install chromium), served from the store of
# PROVOCAST_DATABASE_URL (provocast.db by default; a first model version is trained if none is active).
SCREENSHOT ?= docs/dashboard.png
screenshot: install
	$(BIN)/provocast db upgrade
	$(BIN)/provocast seed
	$(BIN)/python -m service.screenshot $(SCREENSHOT)
