# Two entry points for a fresh clone:  `make demo`  and  `make test`.
# Both create .venv, install torch==2.13.0 (the CPU build) first, then the project. `make test` also
# installs the Debian packages the tests start (PostgreSQL, Chromium, a CJK font) when run as root,
# and otherwise names the missing ones and stops (scripts/system_deps.sh).

PYTHON ?= python3
VENV   ?= .venv
PIP    := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1

.PHONY: demo test install install-dev system-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first and pinned: an unpinned torch would pull gigabytes of CUDA packages.
$(VENV)/.torch: | $(VENV)/bin/python
	$(PIP) install --quiet torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

system-deps:
	PYTHON=$(PYTHON) bash scripts/system_deps.sh

demo: install
	$(VENV)/bin/trendloom demo

test: system-deps install-dev
	$(VENV)/bin/ruff check app generation matching
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) var test-output .pytest_cache
