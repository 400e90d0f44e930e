# bqingest: `make run` runs the whole system locally, `make test` runs every test.
# Both create .venv from a bare Python 3.11 and install exact versions from constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
STAMP := $(VENV)/.installed-stamp
TOOLS_STAMP := $(TOOLS)/.installed-stamp
PYTEST_ARGS ?=
# The coverage the whole suite reaches (line and branch, in-process), as a floor: make test fails
# below it. Raise it when the suite grows; never lower it to let a change through.
COVERAGE_FLOOR := 85
# How far ahead test-any-date moves the tests' clock: over a year, so a fixed date read through
# any window that follows the real clock (a day, a week, a year) falls out of it.
CLOCK_AHEAD_DAYS := 400

PIP_COMPILE := --quiet --generate-hashes --allow-unsafe --no-strip-extras --no-emit-index-url \
	--no-emit-find-links --constraint constraints.txt

.DEFAULT_GOAL := help
.PHONY: help install tools bench-tools run run-fresh test test-any-date test-unit test-integration test-static lint format bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bqingest needs Python >= 3.11: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/tools.txt
	@touch $@

install: $(STAMP) ## Create .venv with the package, the local stack and the dev tools

tools: $(TOOLS_STAMP) ## Create .venv-tools with the static checkers (checkov, zizmor...)

run: install ## Run the whole system locally until Ctrl-C
	$(BIN)/bqingest up

run-fresh: install ## The same from a clean slate: drops the warehouse, ledger and logs of earlier runs
	$(BIN)/bqingest up --fresh

test: install tools ## Run every test: unit, integration (real emulators), static; coverage floor
	$(BIN)/pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-any-date

test-any-date: install ## The unit and API layers again, the clock 400 days ahead: no test may depend on today
	$(BIN)/pytest -q -p no:cacheprovider --clock-ahead $(CLOCK_AHEAD_DAYS) -m "not static" tests/unit tests/integration/api

test-unit: install ## Only the unit tests: fast, no emulator, no .venv-tools
	$(BIN)/pytest -m "not integration and not static" $(PYTEST_ARGS)

test-integration: install ## Only the integration tests (starts the emulators)
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

test-static: install tools ## Only the static checks (Terraform, workflows, Dockerfiles, monitoring)
	$(BIN)/pytest -m static $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check src tests benchmarks .ci
	$(BIN)/ruff format --check src tests benchmarks .ci
	$(BIN)/mypy
	$(BIN)/mypy .ci/*.py

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks .ci
	$(BIN)/ruff format src tests benchmarks .ci

bench-tools: ## Install wrk (HTTP load generator) with apt-get if it is missing
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "wrk (HTTP load generator, needed by benchmarks/bench_api.py) is missing: installing it with apt-get"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; \
	  fi; \
	  command -v wrk >/dev/null 2>&1 || { \
	    echo "error: could not install wrk. Install it yourself (Debian/Ubuntu: sudo apt-get install wrk;" \
	         "macOS: brew install wrk), then run make bench again." >&2; \
	    exit 1; }; }

bench: install bench-tools ## Run the benchmarks and print their figures (see docs/performance.md)
	$(BIN)/python -m benchmarks

lock: ## Re-resolve constraints.txt, requirements/tools.txt and the images' hashed requirements/*.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Exact versions of everything in .venv, resolved for Python 3.11. Regenerate: make lock"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -r requirements/tools.in
	{ echo "# Exact versions for .venv-tools (see tools.in). Regenerate: make lock"; \
	  .lock-venv/bin/python -m pip freeze; } > requirements/tools.txt
	# The images' hashed lock files: each image's extra at the versions of constraints.txt, and
	# the build backend pyproject.toml pins (requirements/build.in), every file's sha256.
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip pip-tools
	for part in api pipeline; do \
	  $(PYTHON) docker/extra_requirements.py $$part > .lock-venv/$$part.in || exit 1; \
	  .lock-venv/bin/pip-compile $(PIP_COMPILE) --output-file requirements/$$part.txt .lock-venv/$$part.in || exit 1; \
	done
	.lock-venv/bin/pip-compile $(PIP_COMPILE) --output-file requirements/build.txt requirements/build.in
	rm -rf .lock-venv

clean: ## Remove virtualenvs, caches and local data (.bqingest)
	rm -rf $(VENV) $(TOOLS) .bqingest .pytest_cache .mypy_cache .ruff_cache .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
