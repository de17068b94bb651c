# make run: a demo trail, ingested into a local index, the principals it found and their policies.
# make test: lint, types and the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := .demo

.PHONY: run test lint typecheck unit bench clean

$(BIN)/accessfit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/accessfit
	@test -d $(DEMO)/trail || $(BIN)/accessfit demo --out $(DEMO)/trail
	ACCESSFIT_SETTLE=0s $(BIN)/accessfit ingest --source $(DEMO)/trail --db $(DEMO)/index.sqlite3
	$(BIN)/accessfit principals --db $(DEMO)/index.sqlite3
	$(BIN)/accessfit generate --db $(DEMO)/index.sqlite3 --out $(DEMO)/policies

lint: $(BIN)/accessfit
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: $(BIN)/accessfit
	$(BIN)/mypy

unit: $(BIN)/accessfit
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(BIN)/accessfit
	$(BIN)/python scripts/bench_ingest.py
	$(BIN)/python scripts/bench_policy.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
