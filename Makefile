# The doors: `make run`, `make test` (both set the machine up first), `make lint`, `make bench`.
SHELL := /bin/bash
VENV := .venv/bin
PYTEST_FLAGS ?=
export PYTHONWARNINGS := ignore::Warning:nameko.cli.commands

.PHONY: setup run test test-services test-suites lint bench clean

setup:
	bash deploy/local/setup.sh

run:
	bash deploy/local/run.sh

# Two pytest sessions: the in-process nameko tests need eventlet's monkey patch
# (`nameko test` applies it); everything else (gateway, end-to-end, browser,
# reliability) must run without it. Each session fails when it collects nothing.
test: setup
	$(MAKE) --no-print-directory test-services test-suites

test-services:
	$(VENV)/nameko test services tests/nameko -p no:cacheprovider $(PYTEST_FLAGS)

test-suites:
	$(VENV)/pytest tests --ignore=tests/nameko -p no:pytest_nameko -p no:cacheprovider $(PYTEST_FLAGS)

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

bench: setup
	$(VENV)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
