# Neuroclinic: `make run` serves the demo clinic, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: help install run test test-fast lint types imports check browser-deps clean

help:
	@echo "make run      install if needed, migrate, load the demo clinic on a new database, serve on http://$(HOST):$(PORT)"
	@echo "make test     the whole test suite (SQLite unless DATABASE_URL says otherwise), browser tests included"
	@echo "make check    lint, types, import contracts and the migration check, as CI runs them"

$(BIN)/python:
	@python=$$(scripts/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml package.json package-lock.json
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@command -v npm >/dev/null || { echo "npm is needed for the front-end packages (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed
	@scripts/install-pdf-libs

var/secret-key:
	@mkdir -p var && umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# The static files need no database: they are collected beside `prepare` (the checks, migrate,
# the cache table and the demo in one process), at a lower priority, so that the chain of steps
# that does need it keeps a core (issue 18, item 10). `prepare` loads the demo when the database
# is new, which it reads from the database: the SQLite file may exist with no tables (`make test`
# creates it).
run: install var/secret-key
	@set -e; export DEBUG=False HTTPS=False SECRET_KEY_FILE=var/secret-key \
	  ALLOWED_HOSTS="$(HOST),localhost,127.0.0.1" \
	  PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}"; \
	nice -n 10 $(BIN)/neuroclinic collectstatic --no-input -v0 & static_pid=$$!; \
	if [ -z "$${DATABASE_URL:-}" ]; then \
	  $(BIN)/neuroclinic prepare --demo-if-new; \
	else \
	  $(BIN)/neuroclinic prepare -v0; \
	fi; \
	wait $$static_pid; \
	echo; \
	echo "Neuroclinic is at $$PUBLIC_BASE_URL/"; \
	echo "Sign in as admin, director, prescriber, nurse, frontdesk, tms, custodian, billing or auditor"; \
	echo "with the password demo-clinic-2026; the two-factor code: $(BIN)/neuroclinic totp <username>"; \
	echo "(README.md, \"The demo clinic\"). Stop with Ctrl-C."; \
	exec $(BIN)/gunicorn neuroclinic.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
	  --log-level warning --control-socket var/gunicorn.ctl --forwarded-allow-ips=""

browser-deps:
	@scripts/install-chromium

test: install browser-deps
	$(BIN)/python -m pytest --durations=30 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy .

imports: install
	$(BIN)/lint-imports

check: lint types imports
	$(BIN)/neuroclinic makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules var/static
