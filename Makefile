# Two commands matter: `make dev` runs the product locally, `make test` passes the tests.
# Both set everything up on a fresh machine (virtualenv + install) first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8000
DATA_DIR ?= .local-data

.PHONY: dev dev-reset test lint bench fuzz build deploy clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

dev: $(STAMP)
	$(PY) -m local.devserver --port $(PORT) --data-dir $(DATA_DIR)

dev-reset:
	rm -rf $(DATA_DIR)
	@echo "local data wiped ($(DATA_DIR))"

test: $(STAMP) tests/js/node_modules/.package-lock.json
	$(PY) -m pytest -n 2 --dist loadgroup

# ical.js, the second calendar parser the invite tests use (npm writes this file on every install)
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared/booking functions local ops tests
	$(VENV)/bin/cfn-lint infra/template.yaml

bench: $(STAMP)
	$(PY) -m bench

# The fuzzer for longer than `make test` runs it, against a fresh local stack (MINUTES=30 SEED=7 to vary).
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --minutes $${MINUTES:-10} --seed $${SEED:-1}

build:
	sam build --template-file infra/template.yaml

deploy: build
	sam deploy --config-env $${ENV:-dev}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
