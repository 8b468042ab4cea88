# The two commands a newcomer needs: `make serve` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: serve test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

serve: $(VENV)/.installed-serve
	$(BIN)/python -m mockportal serve --host 127.0.0.1 --port 8765 --scenario demo

# Bytecode caches on, even where PYTHONDONTWRITEBYTECODE is set: without them every run
# compiles the project again (in each of the 16 `serve` processes the suites start, too) and
# pytest rewrites the asserts of the ~340 modules of schemathesis, hypothesis and anyio (their
# packages carry pytest plugins) again: ~8 s of a ~55 s run. pytest runs on two processes
# (pytest-xdist): one took ~75 s on a quiet 2-core machine, two take ~42 s.
test: $(VENV)/.installed-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 && PYTHONDONTWRITEBYTECODE= $(BIN)/python -m behave
