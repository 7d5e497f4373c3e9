# TrialFinder. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate demo-data bench bench-burst clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its test tools

migrate: $(STAMP) ## Upgrade the database to the newest schema
	$(BIN)/trialfinder db upgrade

run: $(STAMP) ## Migrate, load demo data when empty, serve on http://127.0.0.1:8000
	$(BIN)/trialfinder db upgrade
	$(BIN)/trialfinder demo-data --if-empty
	$(BIN)/trialfinder serve --host 127.0.0.1 --port 8000 --with-worker

test: $(STAMP) lint ## Lint, type-check and run the whole test suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Reformat the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## Run the benchmarks and rewrite docs/performance.md figures
	$(BIN)/python -m bench.import_speed
	$(BIN)/python -m bench.search_speed

bench-burst: $(STAMP) ## Simultaneous contact-form submissions against real servers (needs PostgreSQL)
	$(BIN)/python -m bench.contact_burst

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
