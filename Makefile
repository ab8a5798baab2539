# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DEMO_ORDERS ?= 30000

# pyproject.toml names the dependencies; `make lock` pins them, every transitive package
# included, with hashes: requirements.lock (the app: the Docker image) and
# requirements-test.lock (the app, the tests and the linter: this venv).
LOCK_OPTIONS := --generate-hashes --universal --python-version 3.11 --quiet

.PHONY: install run demo setup test lint lock bench clean-demo

install: $(VENV)/.installed

$(VENV)/.installed: requirements-test.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-test.lock
	touch $@

## Pin pyproject.toml's dependencies again (after adding or changing one). Pins already in the
## lock files are kept where they still fit; `make lock UPGRADE=--upgrade` moves every package
## to its newest release.
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra dev $(LOCK_OPTIONS) $(UPGRADE) \
		-o requirements-test.lock
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_OPTIONS) -c requirements-test.lock -o requirements.lock

## Build the demo store when the warehouse has no store yet.
demo: install
	$(PY) -m connectors demo --if-empty --orders $(DEMO_ORDERS)

## First run: a random login cookie key in .streamlit/secrets.toml and the owner account
## (its random password is printed once). Does nothing once both exist.
setup: install
	$(PY) -m auth setup

## Serve the app (pages, webhooks, live demo feed) on http://localhost:$(PORT).
run: demo setup
	$(PY) -m streamlit run server.py --server.port $(PORT) --server.headless true

test: install
	$(PY) -m pytest -n 2

## ruff, configured in pyproject.toml; every `# noqa` must silence something (RUF100).
lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m bench

## Throw away the embedded demo warehouse (rebuilt by the next `make run`).
clean-demo:
	rm -f data/local/warehouse.duckdb data/local/warehouse.duckdb.wal
