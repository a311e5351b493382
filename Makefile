# The template's task index: `make` lists every target.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
# Extra pytest arguments, e.g. PYTEST_ARGS='-m "not container and not deploy"'
PYTEST_ARGS ?=

.PHONY: help install test bake bench clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

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

test: install ## Run every tier of the template's tests (Docker tier skips without an engine)
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" \
	  $(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

bake: install ## Bake the defaults into ./build for a look around
	rm -rf build && $(VENV)/bin/cookiecutter --no-input --output-dir build .

bench: install ## Measure the generated service against docker init's; rewrite the README tables
	benchmarks/prepare.sh
	$(VENV)/bin/python benchmarks/run.py

clean: ## Remove the virtualenvs, caches and ./build
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache
