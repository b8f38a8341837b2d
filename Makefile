# The book's user interface. `make help` lists the targets.
# Environments are created on demand and reused: .venv for the toolchain, and one kernel
# environment per framework, shared by every checkout (see src/bookbuild/envs.py).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BOOKBUILD := $(BIN)/bookbuild
FRAMEWORK ?=
# The browser tests drive Debian's Chromium (`make chromium` installs it when missing).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help setup envs check notebooks html book test unit lint freshness test-notebooks test-browser \
	chromium bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "  Variables: FRAMEWORK=pytorch limits test-notebooks to one framework."

$(BIN)/.stamp: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/.stamp ## Create the toolchain environment (.venv)

envs: setup ## Create the kernel environments and register their Jupyter kernels
	$(BOOKBUILD) envs $(FRAMEWORK)

check: setup ## Check every chapter (syntax, both languages, labels, references)
	$(BOOKBUILD) check

notebooks: setup ## Write notebooks/ from chapters/, executing only what changed
	$(BOOKBUILD) notebooks

html: setup ## Build both HTML editions into _build/html/{en,pt}
	$(BOOKBUILD) html

book: notebooks html ## Everything: notebooks and both HTML editions

lint: setup ## ruff over the toolchain and its tests
	$(BIN)/ruff check src tests scripts

unit: setup ## Unit tests of the toolchain, and the d2lbook differential test
	D2LBOOK_PYTHON=$$($(BOOKBUILD) env-python envs/d2lbook.txt) $(BIN)/pytest -q -m "not browser" tests

freshness: setup ## Fail if notebooks/ differs from what chapters/ produce
	$(BOOKBUILD) check --notebooks

test-notebooks: setup ## Re-run every notebook cell with nbval on the CPU kernels
	$(BOOKBUILD) test-notebooks $(FRAMEWORK)

chromium: ## Install Debian's Chromium for the browser tests, if it is missing
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-dejavu-core; }

test-browser: html chromium ## Browser tests of both editions, offline, in headless Chromium; screenshots in _build/screenshots/
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q -m browser tests

test: lint unit freshness test-notebooks html test-browser ## Every test: unit, check, freshness, nbval, HTML with -W, browser

bench: setup ## Time cold, no-op, prose-edit and code-edit builds, html and nbval
	$(BIN)/python scripts/bench.py

clean: ## Remove _build/ (notebooks/ and the kernel environments stay)
	rm -rf _build
