# authwire: `make demo` runs the main job, `make test` the whole suite (both bootstrap a
# fresh machine first: apt packages, .venv, npm packages; see scripts/bootstrap.sh).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest

.PHONY: bootstrap demo test test-unit test-contract test-integration lint typecheck docs bench clean

bootstrap:
	@./scripts/bootstrap.sh

demo: bootstrap
	$(PY) demo/demo.py

test: bootstrap lint typecheck docs
	$(PYTEST) tests

test-unit: bootstrap
	$(PYTEST) tests/unit

test-contract: bootstrap
	$(PYTEST) tests/contract

test-integration: bootstrap
	$(PYTEST) tests/integration

lint: bootstrap
	$(VENV)/bin/ruff check src tests bench demo examples
	$(VENV)/bin/ruff format --check src tests bench demo examples

typecheck: bootstrap
	$(VENV)/bin/mypy

docs: bootstrap
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site

bench: bootstrap
	$(PY) -m pip install -q -r requirements-bench.txt
	$(PY) bench/run.py
	$(PY) bench/herd.py
	$(PY) bench/kill9.py

clean:
	rm -rf site .pytest_cache .mypy_cache .ruff_cache build dist
