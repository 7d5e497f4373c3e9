# TrialFinder. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEPS_STAMP := $(VENV)/.locked-deps-stamp

# Locked, hash-checked dependencies (`make lock` writes them from pyproject.toml): what the
# web process needs, and that plus the test and lint tools. Both pin the build backend too.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --all-build-deps --strip-extras --no-emit-index-url --no-emit-find-links

.DEFAULT_GOAL := help
.PHONY: help install lock run test lint format migrate demo-data bench bench-burst bench-alerts bench-notes clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The virtualenv is made afresh whenever the lock changes, so that it holds exactly the
# lock, and every download is checked against the lock's hashes, setuptools (the build
# backend) included. The project itself is then installed (again when pyproject.toml
# changes) without build isolation, which would fetch an unpinned setuptools, and without
# dependencies, which the lock has provided; `pip check` catches a lock older than
# pyproject.toml.
$(DEPS_STAMP): $(DEV_LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	touch $(DEPS_STAMP)

$(STAMP): $(DEPS_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check || { echo "$(DEV_LOCK) does not match pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

install: $(STAMP) ## Create .venv from the lock and install the project with its test tools

lock: $(DEPS_STAMP) ## Re-resolve requirements/*.txt from pyproject.toml (LOCK_ARGS=--upgrade: newest)
	$(PIP_COMPILE) $(LOCK_ARGS) -o $(RUNTIME_LOCK) pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK) pyproject.toml

migrate: $(STAMP) ## Upgrade the database to the newest schema
	$(BIN)/trialfinder db upgrade

run: $(STAMP) ## Migrate, load demo data when empty, serve on http://127.0.0.1:8000
	$(BIN)/trialfinder db upgrade
	$(BIN)/trialfinder demo-data --if-empty
	$(BIN)/trialfinder serve --host 127.0.0.1 --port 8000 --with-worker

test: $(STAMP) lint ## Lint, type-check and run the whole test suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff (lint and format check), mypy, and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP) ## Reformat the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## Run the benchmarks and rewrite docs/performance.md figures
	$(BIN)/python -m bench.import_speed
	$(BIN)/python -m bench.search_speed
	$(BIN)/python -m bench.site_pages --write-docs

bench-burst: $(STAMP) ## Simultaneous contact-form submissions against real servers (needs PostgreSQL)
	$(BIN)/python -m bench.contact_burst --repeat 2 --write-docs

bench-alerts: $(STAMP) ## 100,000 alerts x 1,000 new studies, SQLite and PostgreSQL (needs PostgreSQL)
	$(BIN)/python -m bench.alerts_digest --write-docs

bench-notes: $(STAMP) ## 40 shared-notes links opened at once: time and memory of one server
	$(BIN)/python -m bench.shared_notes --write-docs

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
