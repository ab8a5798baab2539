# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DEMO_ORDERS ?= 30000

.PHONY: install run demo setup test bench clean-demo

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

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

bench: install
	$(PY) -m bench

## Throw away the embedded demo warehouse (rebuilt by the next `make run`).
clean-demo:
	rm -f data/local/warehouse.duckdb data/local/warehouse.duckdb.wal
