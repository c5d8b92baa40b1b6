# make run  — set up and start the server on SQLite (http://127.0.0.1:3567)
# make test — set up and run every check and test (lint, types, the suite on SQLite and PostgreSQL)
.DEFAULT_GOAL := help
BIN := .venv/bin

.PHONY: help run test lint typecheck pytest bench screenshots setup setup-dev test-deps clean

help:
	@echo "make run   set up and start tokenward on http://127.0.0.1:3567 (SQLite ./tokenward.db)"
	@echo "make test  set up and run lint, type checks and the whole test suite"
	@echo "make screenshots  retake docs/screenshots with the browser tests"
	@echo "make bench measure against the floors and write docs/benchmarks.md (not part of test)"

setup:
	@bash scripts/venv.sh

setup-dev:
	@bash scripts/venv.sh dev

test-deps:
	@bash scripts/test-deps.sh

run: setup
	$(BIN)/tokenward migrate
	$(BIN)/tokenward serve

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: setup-dev
	$(BIN)/mypy

pytest: setup-dev test-deps
	$(BIN)/pytest

test: lint typecheck pytest

bench: setup-dev test-deps
	$(BIN)/python -m bench.run

# Retake docs/screenshots/ with the login-UI browser tests.
screenshots: setup-dev test-deps
	TOKENWARD_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser/test_login_ui.py tests/browser/test_login_ui_mfa.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
