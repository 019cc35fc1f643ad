# Two-command set-up: `make demo` and `make test` create .venv and install what they need.
# Installs come from the hashed lock files first (`make lock` regenerates them), then `pip install -e`
# adds anything declared in pyproject.toml since the last `make lock`, so a new dependency never breaks
# a build (tests/test_packaging.py fails until the lock is regenerated).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock"

.PHONY: demo test run bench lint console lock clean

$(VENV)/.base: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.bench: $(VENV)/.dev
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(VENV)/.base  ## build a demo workspace and print a few answers
	$(BIN)/kpibot demo

test: $(VENV)/.dev  ## the whole suite (PostgreSQL too when KPIBOT_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q

run: $(VENV)/.base  ## kpibot serve with the settings in .env
	$(BIN)/kpibot serve

console: $(VENV)/.base
	$(BIN)/kpibot console

bench: $(VENV)/.bench  ## benchmarks: writes bench/results.json and bench/results.md
	$(BIN)/python -m bench

lint: $(VENV)/.dev  ## ruff, mypy on bot jobs storage ([tool.mypy]), import-linter contracts, no import cycles
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py

lock: $(VENV)/.dev  ## pin every dependency with hashes: requirements.lock (runtime), requirements-dev.lock (+dev)
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra dev -o $(DEV_LOCK)

clean:
	rm -rf $(VENV) kpibot-demo.db* demo-out
