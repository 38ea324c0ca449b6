# Two entry points: `make demo` (main job on the bundled data) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/relaynet demo

lint: $(STAMP)
	$(BIN)/ruff check relaynet tests scripts
	$(BIN)/ruff format --check relaynet tests scripts

test: $(STAMP)
	$(BIN)/ruff check relaynet tests scripts
	$(BIN)/ruff format --check relaynet tests scripts
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q

data: $(STAMP)
	$(BIN)/python scripts/build_data.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
