PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install graphiql run test lint format migrate schema authorization bench examples

$(VENV)/installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/installed

# GraphiQL's scripts and styles are bundled from the npm packages pinned in
# schema/graphiql/package-lock.json into schema/static/graphiql/, so the page loads nothing
# from another origin. npm ci runs again only when the lock file changes, the bundle only
# when the lock file or a file of schema/graphiql/ does.
GRAPHIQL := schema/graphiql
GRAPHIQL_BUILT := schema/static/graphiql/.built
NODE_NEEDED := GraphiQL's scripts and styles are built from npm packages when the project is installed: \
	install Node.js 20 or later, with npm, and run make again.

$(GRAPHIQL)/node_modules/.installed: $(GRAPHIQL)/package.json $(GRAPHIQL)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "$(NODE_NEEDED)" >&2; exit 1; }
	@node -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)' \
		|| { echo "$(NODE_NEEDED) (Found Node.js $$(node --version).)" >&2; exit 1; }
	cd $(GRAPHIQL) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(GRAPHIQL_BUILT): $(GRAPHIQL)/node_modules/.installed $(GRAPHIQL)/build.mjs $(wildcard $(GRAPHIQL)/src/*)
	cd $(GRAPHIQL) && npm run --silent build
	touch $@

graphiql: $(GRAPHIQL_BUILT)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

run: export DJANGO_DEBUG ?= 1
# The mail queue's worker runs in the background of the same shell and stops with the server.
run: migrate graphiql
	$(PY) manage.py worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	$(PY) -m uvicorn project.asgi:application --host 127.0.0.1 --port 8000 --lifespan off

# One pytest process per core; a file's tests stay in one process, so a test file's live servers start once.
test: install graphiql
	$(PY) -m pytest -n auto --dist loadfile

# Style is ruff's (pyproject.toml): lint checks and fails, format rewrites the files.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

schema: install
	DJANGO_DEBUG=1 $(PY) manage.py export_schema

# docs/authorization.md with the default settings (no operator codenames).
authorization: install
	DJANGO_DEBUG=1 GRAPHQL_FIELD_CODENAMES= $(PY) manage.py authorization_matrix --write

bench: install
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) -m bench.run

# The example clients (Node.js 20+): npm ci, codegen or relay-compiler from schema.graphql, tsc --noEmit.
# With their node_modules installed, `make test` also runs them against a live server.
examples:
	bash .ci/check-examples
