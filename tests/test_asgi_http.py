"""HTTP through project.asgi (what uvicorn serves): Django's WSGI handler behind a2wsgi answers as it
does under gunicorn, headers, limits and errors included. The live tests (tests/test_subscriptions_live.py,
tests/test_examples.py) send their HTTP requests to a real uvicorn too."""

import json
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tests.test_signing_key_settings import settings_with

# The request runs in a2wsgi's thread, on a database connection of its own.
pytestmark = pytest.mark.django_db(transaction=True)


async def _http(method, path, body=b"", headers=()):
    from project.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=10)
    chunks = []
    while True:
        message = await communicator.receive_output(timeout=10)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait()
    return (
        start["status"],
        {name.decode().lower(): value.decode() for name, value in start["headers"]},
        b"".join(chunks),
    )


def http(method, path, body=b"", headers=()):
    """(status, headers, body) of one request to project.asgi's HTTP application."""
    return async_to_sync(_http)(method, path, body, headers)


def graphql_body(query):
    body = json.dumps({"query": query}).encode()
    return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


def test_an_operation_is_answered_with_the_headers_wsgi_gives_it():
    status, headers, body = http("POST", "/graphql/", *graphql_body("{ __typename }"))
    assert status == 200
    assert json.loads(body) == {"data": {"__typename": "Query"}}
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"]
    assert int(headers["x-ratelimit-limit"]) == settings.GRAPHQL_POINTS_PER_HOUR


def test_a_body_declared_larger_than_the_limit_is_refused():
    declared = str(settings.GRAPHQL_MAX_BODY_BYTES + 1).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", declared)]
    status, _, body = http("POST", "/graphql/", b"{}", headers)
    assert status == 413
    assert str(settings.GRAPHQL_MAX_BODY_BYTES).encode() in body


def test_a_refused_operation_keeps_its_contract_error():
    status, _, body = http("POST", "/graphql/", *graphql_body("{ me { id } }"))
    assert status == 200
    assert [error["extensions"]["code"] for error in json.loads(body)["errors"]] == ["UNAUTHENTICATED"]


def test_the_number_of_http_threads_is_bounded(monkeypatch):
    assert settings_with(monkeypatch, ASGI_HTTP_THREADS="8")["ASGI_HTTP_THREADS"] == 8
    for refused in ("0", "65"):
        with pytest.raises(ImproperlyConfigured, match="ASGI_HTTP_THREADS"):
            settings_with(monkeypatch, ASGI_HTTP_THREADS=refused)


@pytest.mark.parametrize("operators, expected", [(None, "1"), ("0", "0")])
def test_uvicorns_workers_take_turns_accepting_connections(operators, expected):
    """project.asgi turns on libuv's single accept (UV_TCP_SINGLE_ACCEPT) before uvicorn listens,
    unless the operator set it: without it, one worker took every connection opened together."""
    environment = {name: value for name, value in os.environ.items() if name != "UV_TCP_SINGLE_ACCEPT"}
    if operators is not None:
        environment["UV_TCP_SINGLE_ACCEPT"] = operators
    read = "import os, project.asgi; print(os.environ['UV_TCP_SINGLE_ACCEPT'])"
    answer = subprocess.run(
        [sys.executable, "-c", read], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == expected
