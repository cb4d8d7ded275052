# Every target sets up .venv on first use, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run dev demo test bench pools docs clean

# Two stamps, each redone when pyproject.toml changes: serving needs the runtime dependencies only,
# the test suite adds the `test` extra (pytest, hypothesis, schemathesis, playwright, ...).
RUNTIME := $(VENV)/.runtime-installed
TESTING := $(VENV)/.test-installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The C helpers are compiled at install: an edit to them reinstalls too.
$(RUNTIME): pyproject.toml app/data/_speedups.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TESTING): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The docs site (mkdocs.yml, docs/) needs the `docs` extra only (MkDocs, Material, pymdown-extensions).
DOCS := $(VENV)/.docs-installed

$(DOCS): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

# Everything a developer needs: the app and the test tools.
setup: $(TESTING)

run: $(RUNTIME)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/conversations-mock serve

# `make run` with fixture reload: edits to fixtures/ (and to FIXTURES=dir) are served without a restart.
dev: $(RUNTIME)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/conversations-mock serve --reload $(if $(FIXTURES),--fixtures $(FIXTURES))

# A living timeline to watch: the wall clock at thirty times its pace, chatbots of a hundred or so
# conversations a day, so page 1 gets new conversations and sees others end within minutes.
demo: $(RUNTIME)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/conversations-mock serve --clock now --clock-speed 30 --conversations 5000-10000

test: $(TESTING)
	$(BIN)/python -m pytest

# wrk and redis-server come from Debian's packages; BENCH_ARGS passes options, e.g. BENCH_ARGS='--repeats 5' (see --help).
bench: $(RUNTIME)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

# The docs site, into site/ (git-ignored), warnings as errors; the test suite builds it too (tests/test_docs_site.py).
docs: $(DOCS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Rewrites app/data/message_pools.json with the installed Faker: after editing the phrases in
# app/data/messages.py, or to ship another Faker release's texts (tests/data/test_messages.py checks it).
pools: $(RUNTIME)
	$(BIN)/python -m conversations_mock.data.messages

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis build
	find app -name '*.so' -delete
