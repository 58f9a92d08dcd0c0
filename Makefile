# Every target installs what it needs first; on a fresh clone `make run` and `make test` just work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run migrate test lint format lock clean

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
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests
	$(VENV)/bin/ruff format src tests

lock: | $(UV) ## Re-resolve uv.lock after changing dependencies
	$(UV) lock

clean: ## Remove the environments and caches
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache
