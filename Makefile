# The few commands people run. Everything installs into .venv from the pinned lock files: serving needs
# requirements.lock only; tests add requirements-test.lock.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
TESTING := $(VENV)/.testing
PIP := $(BIN)/pip install -qq --disable-pip-version-check

.PHONY: setup build serve test lint clean

$(RUNTIME): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

$(TESTING): $(RUNTIME) requirements-test.lock
	$(PIP) -r requirements-test.lock
	touch $@

setup: $(RUNTIME)

build: setup
	$(BIN)/mdkg build

PORT ?= 8000
HOST ?= 127.0.0.1

serve: build
	$(BIN)/mdkg serve --host $(HOST) --port $(PORT)

test: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf build $(VENV)
