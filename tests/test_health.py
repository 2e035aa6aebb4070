"""/healthz and /readyz (docs/deployment.md): up, with the database down, with migrations missing."""

import json
import socket

import pytest
from django.conf import settings
from django.test import Client, override_settings

from project import health
from tests.live_server import GunicornServer


def get(path, **headers):
    return Client().get(path, **headers)


def test_healthz_answers_without_credentials_or_internals(db):
    response = get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_names_each_check_when_ready(db):
    response = get("/readyz")
    assert response.status_code == 200
    expected = {"database": "ok", "migrations": "ok", **({"redis": "ok"} if settings.REDIS_URL else {})}
    assert response.json() == {"status": "ready", "checks": expected}


def test_readyz_reads_the_migration_graph_only_until_it_is_all_applied(db, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(health, "MIGRATIONS", health.MigrationsApplied())
    get("/readyz")
    # From then on a probe costs one SELECT 1: no migration graph, no django_migrations table.
    with django_assert_num_queries(1):
        assert get("/readyz").status_code == 200


def test_probes_reach_a_process_by_its_address_over_plain_http(db):
    """A load balancer or an orchestrator asks the container's own address, without TLS."""
    with override_settings(ALLOWED_HOSTS=["api.example.com"], SECURE_SSL_REDIRECT=True):
        for path in ("/healthz", "/readyz"):
            assert get(path, HTTP_HOST="10.1.2.3:8000").status_code == 200
        assert get("/graphql/", HTTP_HOST="10.1.2.3:8000").status_code == 400  # the API itself still checks


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_only_read(db, path):
    response = Client().post(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis is checked only when REDIS_URL is set")
def test_readyz_fails_when_redis_does_not_answer(db):
    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    caches = {alias: {**config, "LOCATION": unreachable} for alias, config in settings.CACHES.items()}
    with override_settings(REDIS_URL=unreachable, CACHES=caches):
        response = get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failed"


@pytest.fixture(scope="module")
def database_down(tmp_path_factory):
    """A server whose database refuses connections: PostgreSQL's address, on a port nobody listens on."""
    server = GunicornServer(
        tmp_path_factory.mktemp("database-down"),
        DATABASE_URL=f"postgres://app:secret-password@127.0.0.1:{closed_port()}/app",
    )
    server.migrated = True  # nothing to migrate into
    yield server.start()
    server.stop()


def test_healthz_answers_while_the_database_is_down(database_down):
    status, _, body = database_down.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_readyz_names_the_database_when_it_is_down_and_reveals_nothing_else(database_down):
    status, headers, body = database_down.get("/readyz")
    assert status == 503
    assert json.loads(body) == {"status": "not ready", "checks": {"database": "failed", "migrations": "skipped"}}
    assert headers["Cache-Control"] == "no-store"
    # Why it failed is in the server's log, not in the answer.
    assert "Readiness check database failed: OperationalError" in database_down.output.read_text()
    assert b"127.0.0.1" not in body and b"secret" not in body


def test_readyz_waits_for_the_migrations_then_answers_ready(tmp_path):
    server = GunicornServer(tmp_path)
    server.migrated = True  # an empty database: the migrate job has not run yet
    server.start()
    try:
        status, _, body = server.get("/readyz")
        assert (status, json.loads(body)["checks"]) == (503, {"database": "ok", "migrations": "failed"})
        server.migrated = False
        server.migrate()
        status, _, body = server.get("/readyz")
        assert (status, json.loads(body)["status"]) == (200, "ready")
    finally:
        server.stop()
