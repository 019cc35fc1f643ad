# Two-command set-up: `make demo` and `make test` create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test run bench lint console clean

$(VENV)/.base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
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

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) kpibot-demo.db* demo-out
