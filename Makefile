# Two-command set-up: `make demo` and `make test` create .venv and install what they need.
# Installs come from the hashed lock files first (`make lock` regenerates them), then `uv pip install -e`
# adds anything declared in pyproject.toml since the last `make lock`, so a new dependency never breaks
# a build (tests/test_packaging.py fails until the lock is regenerated).
# uv installs (seconds where pip took about a minute and a half); pip only bootstraps uv itself, from
# uv's pin and hashes in the dev lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV := $(BIN)/uv
INSTALL = $(UV) pip install --quiet --python $(BIN)/python
COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock"
# The test suite runs in 3 processes (pytest-xdist) on CI's 2 cores: a good part of its wall time is spent
# waiting (fake platforms, subprocesses, deadlines), so a third process fills the gaps (same clean clone,
# same machine: the whole CI run 6 min 33 s with 2, 5 min 12 s with 3). `make test PYTEST_WORKERS=0` runs it
# in one process.
PYTEST_WORKERS ?= 3
# Tests write bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE, set on the CI
# machine): a run starts about 60 Python processes (xdist workers, `kpibot serve` replicas, the CLI), and
# without cached bytecode each compiled SQLAlchemy, pydantic and lark-oapi (10 k modules) again.
PYTEST = env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

.PHONY: demo test run bench lint console lock clean

$(UV): $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/ {p = 1; print; next} p && /^ / {print; next} {p = 0}' $(DEV_LOCK) > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	touch $@

$(VENV)/.base: pyproject.toml $(LOCK) $(UV)
	$(INSTALL) --require-hashes --no-deps -r $(LOCK)
	$(INSTALL) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base $(DEV_LOCK)
	$(INSTALL) --require-hashes --no-deps -r $(DEV_LOCK)
	$(INSTALL) -e '.[dev]'
	touch $@

$(VENV)/.bench: $(VENV)/.dev
	$(INSTALL) -e '.[bench]'
	touch $@

demo: $(VENV)/.base  ## build a demo workspace and print a few answers
	$(BIN)/kpibot demo

test: $(VENV)/.dev  ## the whole suite (PostgreSQL too when KPIBOT_TEST_DATABASE_URL is set)
	$(PYTEST) -q -n $(PYTEST_WORKERS)

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
	$(PYTEST) -q -p no:cacheprovider tests/test_layers.py

lock: $(VENV)/.dev  ## pin every dependency with hashes: requirements.lock (runtime), requirements-dev.lock (+dev)
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra dev -o $(DEV_LOCK)

clean:
	rm -rf $(VENV) kpibot-demo.db* demo-out
