# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev

.PHONY: run test lint unit bench install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m infra.local

test: install
	bash tests/integration/pds/install.sh
	$(PY) -m ruff check .
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/unit

bench: install
	@$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
