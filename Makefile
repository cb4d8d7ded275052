# Every target sets up .venv on first use, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# MOCK_HOST, not HOST: shells set HOST to the machine's name (tcsh does).
MOCK_HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup system run dev demo test check bench pools docs clean

# Two stamps, each redone when pyproject.toml changes: serving needs the runtime dependencies only,
# the test suite adds the `test` extra (pytest, hypothesis, schemathesis, playwright, ...). The runtime
# stamp names whether a C compiler is here, so one installed later rebuilds the C helpers at `make setup`.
CC_FOUND := $(if $(shell command -v cc || command -v gcc),cc,no-cc)
RUNTIME := $(VENV)/.runtime-installed-$(CC_FOUND)
TESTING := $(VENV)/.test-installed
# pip's and setuptools' chatter goes to this log, shown in full only when an install fails.
INSTALL_LOG := $(VENV)/install.log
PIP_INSTALL = echo "pip install $(1)" && $(BIN)/python -m pip install --quiet $(1) >$(INSTALL_LOG) 2>&1 \
	|| { cat $(INSTALL_LOG); echo "make: pip install $(1) failed (log above, kept in $(INSTALL_LOG))"; exit 1; }

# Why the C helpers may not be built; the rest of the message is compiled.NOT_BUILT, which serve prints too.
NOT_BUILT_WHY = $(if $(filter no-cc,$(CC_FOUND)),no C compiler was found,the build failed: see $(INSTALL_LOG))

$(BIN)/python:
	@echo "$(PYTHON) -m venv $(VENV)" && $(PYTHON) -m venv $(VENV)
	@$(call PIP_INSTALL,--upgrade pip)

# The C helpers are compiled at install: an edit to them reinstalls too.
$(RUNTIME): pyproject.toml app/data/_speedups.c | $(BIN)/python
	@rm -f $(VENV)/.runtime-installed*
	@$(call PIP_INSTALL,-e .)
	@$(BIN)/python -c 'from conversations_mock.data.compiled import NOT_BUILT, is_compiled; \
	  is_compiled() or print("make:", NOT_BUILT, "($(NOT_BUILT_WHY))")'
	@touch $@

$(TESTING): pyproject.toml $(RUNTIME)
	@$(call PIP_INSTALL,-e '.[test]')
	@touch $@

# The docs site (mkdocs.yml, docs/) needs the `docs` extra only (MkDocs, Material, pymdown-extensions).
DOCS := $(VENV)/.docs-installed

$(DOCS): pyproject.toml $(RUNTIME)
	@$(call PIP_INSTALL,-e '.[docs]')
	@touch $@

# Everything a developer needs: the app and the test tools.
setup: $(TESTING)

# Debian's programs the suite drives (tests/system.py): installed as root where apt-get exists; otherwise
# the tests that need them skip, naming them (under CI=true they fail).
system:
	@$(PYTHON) tests/system.py install

# exec: the server replaces the shell, so Ctrl-C ends with the server's goodbye, not make's "Interrupt" line
# (sh, interrupted while it waits, would die by the signal even though the server exits 0).
run: $(RUNTIME)
	MOCK_HOST=$(MOCK_HOST) PORT=$(PORT) exec $(BIN)/conversations-mock serve

# `make run` with fixture reload: edits to fixtures/ (and to FIXTURES=dir) are served without a restart.
dev: $(RUNTIME)
	MOCK_HOST=$(MOCK_HOST) PORT=$(PORT) exec $(BIN)/conversations-mock serve --reload $(if $(FIXTURES),--fixtures $(FIXTURES))

# A living timeline to watch at the wall clock's pace: 5000-10000 conversations per chatbot at the start
# of the day, 180 more an hour (one every 10 to 30 s through a chatbot's busy hours), each closed 5 minutes
# after its last message at the latest, so page 1 gets new conversations and sees others end within minutes.
demo: $(RUNTIME)
	MOCK_HOST=$(MOCK_HOST) PORT=$(PORT) exec $(BIN)/conversations-mock serve --clock now --conversations 5000-10000 --conversations-per-hour 180 --idle-close 5m

# The whole suite. System programs first, then (in a new make, which sees a compiler just installed) the venv.
test: system
	@$(MAKE) --no-print-directory setup
	$(BIN)/python -m pytest

# The fast loop: every test that starts no server, browser or build (pytest -m "not live").
check: setup
	$(BIN)/python -m pytest -m "not live" -q

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
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis build site
	find app -name '*.so' -delete
