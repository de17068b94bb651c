# make run: the daemon on a demo trail it generates in .demo/ and keeps adding to; metrics on 127.0.0.1:9847.
# make test: lint, types and the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := .demo

.PHONY: run test lint typecheck unit future future-all bench clean

$(BIN)/accessfit: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,spark]'
	touch $@

run: $(BIN)/accessfit
	@echo "accessfit on a demo trail in $(DEMO)/: metrics on http://127.0.0.1:9847/metrics, policies in $(DEMO)/policies; Ctrl-C stops"
	$(BIN)/accessfit run --demo $(DEMO)

lint: $(BIN)/accessfit
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/lint-imports

typecheck: $(BIN)/accessfit
	$(BIN)/mypy

# Two test processes per core (pytest-xdist): about half of a test's time is spent waiting on the processes, servers
# and polls it starts (the suite used 407 CPU seconds of the 778 two processes had on two cores), so two more keep the
# cores busy; worksteal keeps them busy to the end, whatever the long tests are.
TEST_PROCESSES ?= $(shell echo $$(( 2 * $$(nproc) )))
PYTEST := $(BIN)/pytest -q -n $(TEST_PROCESSES) --dist worksteal

unit: $(BIN)/accessfit
	$(PYTEST)

# The in-process tests (not `slow`: no process or server started) once more with the clock four years ahead, so a
# new test that depends on the day it runs fails today, not in four years. Not the `slow` ones: 143 tests, nine
# tenths of the suite's time; the whole suite twice took 16.5 of CI's 19 minutes on a slow 2-CPU machine, this pass
# 2 of them. `make future-all` shifts the whole suite, and every process a test starts.
future: $(BIN)/accessfit
	$(PYTEST) --clock-shift-days=1500 -m "not slow"

future-all: $(BIN)/accessfit
	$(PYTEST) --clock-shift-days=1500

test: lint typecheck unit future

bench: $(BIN)/accessfit
	$(BIN)/python scripts/bench_ingest.py
	$(BIN)/python scripts/bench_policy.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
