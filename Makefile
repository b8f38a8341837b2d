# The book's user interface. `make help` lists the targets. CI (.ci/run and .github/workflows/)
# calls these same targets.
# Environments are created on demand and reused: .venv for the toolchain, and one kernel
# environment per framework, shared by every checkout (see src/bookbuild/envs.py). The GPU
# environments (several GB each) are created only by `make envs-gpu`: see docs/gpu.md.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BOOKBUILD := $(BIN)/bookbuild
FRAMEWORK ?=
# The book that check, status, notebooks, html and preview work on: this one, or another folder with
# a _config.yml (BOOK=/tmp/big, say, a book made by scripts/synthetic_book.py).
BOOK ?= .
# Scheduling (docs/scaling.md): JOBS=N kernels at once (default: the cores, as memory allows);
# SHARD=i/N only shard i of N of the (section, framework) pairs; EXPORT=dir copies a build's
# notebooks there, and SHARDS=dir is where `make collect` finds them all.
JOBS ?=
SHARD ?=
EXPORT ?=
SHARDS ?= _build/shards
SCHEDULING = $(if $(JOBS),-j $(JOBS)) $(if $(SHARD),--shard $(SHARD))
# The browser tests drive Debian's Chromium (`make chromium` installs it when missing).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help setup envs envs-gpu check references status notebooks collect html preview book test unit lint \
	freshness test-notebooks test-gpu test-browser chromium bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "  Variables: FRAMEWORK=pytorch limits envs, envs-gpu, notebooks, test, test-notebooks and test-gpu to"
	@echo "  one framework; JOBS=4 runs 4 kernels at once; SHARD=2/3 runs shard 2 of 3 (notebooks, test-notebooks,"
	@echo "  test-gpu); EXPORT=dir copies the notebooks built there; SHARDS=dir is what collect collects."
	@echo "  BOOK=dir: check, status, notebooks, html and preview work on the book in dir."

$(BIN)/.stamp: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/.stamp ## Create the toolchain environment (.venv)

envs: setup ## Create the kernel environments and register their Jupyter kernels
	$(BOOKBUILD) envs $(FRAMEWORK)

envs-gpu: setup ## Create the GPU kernel environments (CUDA builds, GB each) and their kernels
	$(BOOKBUILD) envs --gpu $(FRAMEWORK)

check: setup ## Check every chapter (syntax, labels, references); translation gaps are warnings
	$(BOOKBUILD) --root $(BOOK) check

references: setup ## Also list every :numref: that points forward in the table of contents (to review)
	$(BOOKBUILD) --root $(BOOK) check --references

notebooks: setup ## Write notebooks/ from chapters/, executing only what changed, several kernels at once
	$(BOOKBUILD) --root $(BOOK) notebooks $(FRAMEWORK) $(SCHEDULING) $(if $(EXPORT),--export $(EXPORT))

collect: setup ## Put the shards' exported notebooks (SHARDS=dir) into notebooks/, if they make a full build
	$(BOOKBUILD) collect $(SHARDS)

html: setup ## Build both HTML editions into _build/html/{en,pt}
	$(BOOKBUILD) --root $(BOOK) html

preview: setup ## The whole book in seconds, no kernel: notebooks without new outputs, then both HTML editions
	$(BOOKBUILD) --root $(BOOK) notebooks --no-execute
	$(BOOKBUILD) --root $(BOOK) html --preview

book: notebooks html ## Everything: notebooks and both HTML editions

lab: envs ## Open notebooks/ in JupyterLab, each notebook with its framework's kernel
	"$$($(BOOKBUILD) env-python envs/jupyterlab.txt)" -m jupyterlab notebooks/

lint: setup ## ruff over the toolchain and its tests; actionlint over the CI workflows
	$(BIN)/ruff check src tests scripts
	$(BIN)/actionlint -shellcheck= -pyflakes= .github/workflows/*.yml

unit: setup ## Unit tests of the toolchain, and the d2lbook differential test (a test file per core)
	D2LBOOK_PYTHON=$$($(BOOKBUILD) env-python envs/d2lbook.txt) $(BIN)/pytest -q -rs -m "not browser" \
		-n auto --dist loadfile tests

freshness: setup ## Fail if notebooks/ differs from what chapters/ produce, or a translation has a gap (strict)
	$(BOOKBUILD) check --strict --notebooks

status: setup ## Translation coverage per chapter and language (bookbuild status --json for CI)
	$(BOOKBUILD) --root $(BOOK) status

test-notebooks: setup ## Re-run every notebook cell with nbval on the CPU kernels, on every core
	$(BOOKBUILD) test-notebooks $(FRAMEWORK) $(SCHEDULING)

test-gpu: setup ## Re-run every notebook cell with nbval on the GPU kernels that are installed
	$(BOOKBUILD) test-notebooks --gpu $(FRAMEWORK) $(SCHEDULING)

chromium: ## Install Debian's Chromium for the browser tests, if it is missing
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-dejavu-core; }

test-browser: html chromium ## Browser tests, offline, in headless Chromium: both editions, an imported chapter, notebooks run in JupyterLab
	$(BOOKBUILD) envs  # every framework's kernel: JupyterLab runs a notebook of each
	JUPYTERLAB_PYTHON=$$($(BOOKBUILD) env-python envs/jupyterlab.txt) CHROMIUM=$(CHROMIUM) \
		$(BIN)/pytest -q -m browser tests

test: lint unit freshness test-notebooks html test-browser ## Every test (FRAMEWORK=x: nbval for x only); no GPU needed

bench: setup ## Benchmarks: the reader, this book, a generated 120-section book, then a full-size book previewed (BENCH=--quick: no generated books; BENCH=--full-size: only the last)
	$(BIN)/python scripts/bench.py $(BENCH)

clean: ## Remove _build/ (notebooks/ and the kernel environments stay)
	rm -rf _build
