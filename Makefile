# Every target installs what it needs first; on a fresh clone `make run` and `make test` just work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run migrate test lint format lock clean bench bench-scale chaos

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "Installing uv $(UV_VERSION) into .tools (it builds the environment from uv.lock)"
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.synced ## Create .venv with the locked dependencies

run: install ## Serve the API on http://127.0.0.1:8000 for local use (no authentication unless TODO_AUTH=jwt)
	@[ -n "$$TODO_AUTH" ] || echo "make run: authentication is disabled for local use; set TODO_AUTH=jwt with TODO_JWT_SECRET or TODO_JWKS_URL to turn it on."
	TODO_AUTH=$${TODO_AUTH:-disabled} TODO_ENVIRONMENT=$${TODO_ENVIRONMENT:-development} $(VENV)/bin/todo serve --migrate

migrate: install ## Apply pending migrations to the database at TODO_DATABASE_URL
	@test -n "$$TODO_DATABASE_URL" || { echo "Set TODO_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/todo"; exit 2; }
	$(VENV)/bin/todo migrate

test: install ## Run the whole test suite
	$(VENV)/bin/pytest

lint: install ## ruff, mypy --strict, import contracts
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

# Load tests against scratch databases on the benchmark's own PostgreSQL server (a cluster in
# bench/.postgres, started for the run, its shared buffers a quarter of the memory), or on the
# server at BENCH_SERVER (e.g. postgresql://postgres@127.0.0.1:5432) when set: `make bench`, or
# `make bench PEER=DIR` to measure another implementation of the API beside ours. BENCH_ARGS
# passes options to bench/run.py (see `.venv/bin/python bench/run.py --help`).
BENCH_RUN = $(PY) bench/run.py $(if $(BENCH_SERVER),--server $(BENCH_SERVER)) $(if $(PEER),--peer $(PEER))

bench: install ## Load-test ours (and PEER=dir) at 10k users / 1M tasks; results in bench/results/
	@command -v wrk > /dev/null || { echo "make bench needs wrk: apt-get install -y wrk (Debian, Ubuntu) or brew install wrk (macOS)"; exit 2; }
	$(BENCH_RUN) $(BENCH_ARGS)

bench-scale: install ## Get and list at 100k, 1M and 10M tasks (seeding 10M takes minutes once)
	@command -v wrk > /dev/null || { echo "make bench-scale needs wrk: apt-get install -y wrk (Debian, Ubuntu) or brew install wrk (macOS)"; exit 2; }
	$(BENCH_RUN) --scale $(BENCH_ARGS)

# A Jepsen-style set test of "acknowledged writes survive": SIGKILLs a throwaway PostgreSQL (on a
# spare port) under concurrent writers for about five minutes; not part of `make test`. CHAOS_ARGS
# passes options to chaos/run.py (see `.venv/bin/python chaos/run.py --help`); results in chaos/results/.
chaos: install ## Crash PostgreSQL under concurrent writers; check every acknowledged write survives
	$(PY) chaos/run.py $(CHAOS_ARGS)

lock: | $(UV) ## Re-resolve uv.lock after changing dependencies
	$(UV) lock

clean: ## Remove the environments and caches
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache
