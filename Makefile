# Two commands a new user needs: `make run` and `make test`. Everything else is a step of those.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: run test setup venv services test-python test-php plugin-zip bench lint clean

run: venv
	bash scripts/run-demo.sh

test: setup services
	bash scripts/test-all.sh

setup:
	bash scripts/setup.sh

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(VENV_STAMP)

services:
	bash scripts/services.sh

test-python: venv services
	bash scripts/test-python.sh

test-php:
	bash scripts/test-php.sh

plugin-zip:
	bash scripts/plugin-zip.sh

lint: venv
	$(PY) -m ruff check companion jobs tests bench wsgi.py
	$(PY) -m ruff format --check companion jobs tests bench wsgi.py
	.venv/bin/lint-imports --no-cache

clean:
	rm -rf .venv node_modules build dist artifacts companion.db companion.db-*
