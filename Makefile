PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test migrate schema authorization bench

$(VENV)/installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/installed

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

run: export DJANGO_DEBUG ?= 1
run: migrate
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest

schema: install
	DJANGO_DEBUG=1 $(PY) manage.py export_schema

# docs/authorization.md with the default settings (no operator codenames).
authorization: install
	DJANGO_DEBUG=1 GRAPHQL_FIELD_CODENAMES= $(PY) manage.py authorization_matrix --write

bench: install
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) -m bench.run
