# syntax=docker/dockerfile:1
# The API server's image: gunicorn serving project.wsgi on port 8000, as a user without a shell.
# Build: docker build -t graphql-auth .   Run with its database and Redis: docs/deployment.md.

# GraphiQL's scripts and styles, bundled from the npm packages pinned in package-lock.json.
FROM node:22-bookworm-slim AS graphiql
WORKDIR /build/schema/graphiql
COPY schema/graphiql/package.json schema/graphiql/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY schema/graphiql/ ./
# Writes /build/schema/static/graphiql/.
RUN npm run --silent build

# The Python packages, in a virtualenv the final image copies (every one installs from a wheel,
# so no compiler is needed here either).
FROM python:3.11-slim-bookworm AS python-packages
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=project.settings
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=python-packages /opt/venv /opt/venv
# The code and static files belong to root: the server can read them, not change them.
COPY . .
COPY --from=graphiql /build/schema/static/graphiql/ schema/static/graphiql/
# collectstatic only reads settings; the key it needs to load them is thrown away with this layer's shell.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    python manage.py collectstatic --noinput --verbosity 0
USER 10001:10001
EXPOSE 8000
# Liveness only: readiness (/readyz) depends on the database, which compose.yaml checks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Exec form: gunicorn is PID 1 and gets docker stop's SIGTERM itself (gunicorn.conf.py: graceful_timeout).
CMD ["gunicorn", "project.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
