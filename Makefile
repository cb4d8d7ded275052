# Every target sets up .venv on first use, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run dev test bench pools clean

$(BIN)/conversations-mock: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/conversations-mock

run: setup
	HOST=$(HOST) PORT=$(PORT) $(BIN)/conversations-mock serve

# `make run` with fixture reload: edits to fixtures/ (and to FIXTURES=dir) are served without a restart.
dev: setup
	HOST=$(HOST) PORT=$(PORT) $(BIN)/conversations-mock serve --reload $(if $(FIXTURES),--fixtures $(FIXTURES))

test: setup
	$(BIN)/python -m pytest

# wrk comes from Debian's packages; BENCH_ARGS passes options, e.g. BENCH_ARGS='--repeats 5' (see --help).
bench: setup
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

# Rewrites app/data/message_pools.json with the installed Faker: after editing the phrases in
# app/data/messages.py, or to ship another Faker release's texts (tests/data/test_messages.py checks it).
pools: setup
	$(BIN)/python -m conversations_mock.data.messages

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
