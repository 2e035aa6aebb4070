"""/metrics (docs/deployment.md): off unless enabled, behind its token, what each figure counts,
no client text in any label, and figures added up over several worker processes."""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from accounts import budget
from accounts.models import TotpDevice
from project import metrics
from schema.schema import schema
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes
from tests.live_server import GunicornServer

METRICS_ON = override_settings(METRICS_ENABLED=True)
REFRESH = "mutation Refresh($refresh: String!) { refreshToken(refresh: $refresh) { refresh } }"


def scrape(**headers):
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return response.content.decode()


def samples(text):
    """{(name, sorted labels): value} of a scrape."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text, name, **labels):
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


class Change:
    """How much each sample moved between two scrapes, so tests need not know what others counted."""

    def __init__(self):
        self.before = samples(scrape())

    def of(self, name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return samples(scrape()).get(key, 0.0) - self.before.get(key, 0.0)


def login(username, password=PASSWORD, otp=None, **extra):
    return GraphQLClient().execute(LOGIN, {"username": username, "password": password, "otp": otp}, **extra)


def test_metrics_are_off_by_default(db):
    response = Client().get("/metrics")
    assert response.status_code == 404
    assert response.content == Client().get("/no-such-page").content


@METRICS_ON
def test_the_scrape_is_prometheus_text(db):
    response = Client().get("/metrics")
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {"graphql_auth_refresh_token_reuse_detected", "graphql_auth_open_websockets"} <= names


@override_settings(METRICS_ENABLED=True, METRICS_TOKEN="a-long-random-scrape-token")
@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        ("Bearer a-long-random-scrape-token-and-more", 401),
        ("Basic a-long-random-scrape-token", 401),
        ("Bearer a-long-random-scrape-token", 200),
        ("bearer a-long-random-scrape-token", 200),
    ],
)
def test_a_metrics_token_is_required_when_set(db, authorization, status):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"graphql_auth" not in response.content


@METRICS_ON
@override_settings(LOGIN_RATE_LIMIT="3/m")
def test_logins_are_counted_by_result(alice, make_user):
    change = Change()
    login("alice")
    login("alice", "wrong password")
    login("nobody", "wrong password")
    carol = make_user("carol")
    TotpDevice.objects.create(user=carol, secret=pyotp.random_base32(), confirmed_at=timezone.now())
    assert error_codes(login("carol", REMOTE_ADDR="198.51.100.7")) == ["OTP_REQUIRED"]
    assert error_codes(login("carol", otp="000000", REMOTE_ADDR="198.51.100.7")) == ["OTP_INVALID"]
    assert error_codes(login("alice")) == ["RATE_LIMITED"]  # the fourth attempt from 127.0.0.1

    counted = {result: change.of("graphql_auth_logins_total", result=result) for result in
               ("success", "invalid_credentials", "otp_required", "otp_invalid", "rate_limited")}  # fmt: skip
    assert counted == {"success": 1, "invalid_credentials": 2, "otp_required": 1, "otp_invalid": 1, "rate_limited": 1}
    assert change.of("graphql_auth_rate_limited_total", scope="login:ip") == 1


@METRICS_ON
def test_refreshes_and_reuse_are_counted(alice):
    change = Change()
    tokens = GraphQLClient().login("alice")
    client = GraphQLClient()
    successor = client.execute(REFRESH, {"refresh": tokens["refresh"]})["data"]["refreshToken"]
    assert "errors" not in client.execute(REFRESH, {"refresh": successor["refresh"]})
    # The first token again, once its successor was used: reuse (the retry grace does not apply).
    assert error_codes(client.execute(REFRESH, {"refresh": tokens["refresh"]})) == ["UNAUTHENTICATED"]
    assert error_codes(client.execute(REFRESH, {"refresh": "not-a-token"})) == ["UNAUTHENTICATED"]

    assert change.of("graphql_auth_token_refreshes_total", result="success") == 2
    assert change.of("graphql_auth_token_refreshes_total", result="token_revoked") == 1
    assert change.of("graphql_auth_token_refreshes_total", result="token_invalid") == 1
    assert change.of("graphql_auth_refresh_token_reuse_detected_total") == 1


@METRICS_ON
def test_requests_are_counted_by_root_field_and_outcome(alice, client_for):
    change = Change()
    GraphQLClient().execute("query Mine { me { id } }")
    client_for(alice).execute("{ me { id } tasks { totalCount } }")
    client_for(alice).execute("query { ...Root } fragment Root on Query { me { id } }")
    GraphQLClient().execute("{ me { id ")
    too_large = Client().post("/graphql/", "x" * 200_000, content_type="application/json")
    assert too_large.status_code == 413

    def requests(operation_type, operation, outcome):
        return change.of("graphql_auth_requests_total", operation_type=operation_type, operation=operation,
                         outcome=outcome)  # fmt: skip

    assert requests("query", "me", "UNAUTHENTICATED") == 1
    assert requests("query", "multiple", "OK") == 1
    assert requests("query", "me", "OK") == 1
    assert requests("none", "none", "GRAPHQL_VALIDATION_FAILED") == 1
    assert requests("none", "none", "HTTP_413") == 1
    assert change.of("graphql_auth_request_duration_seconds_count", operation_type="query", operation="me") == 2


@METRICS_ON
def test_a_failure_outside_every_field_is_counted_as_an_internal_server_error(alice, client_for, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("the budget's store is unreachable")

    monkeypatch.setattr(budget, "spend", unreachable)
    change = Change()
    assert error_codes(client_for(alice).execute("{ me { id } }")) == ["INTERNAL_SERVER_ERROR"]

    def requests(operation_type, operation, outcome):
        return change.of("graphql_auth_requests_total", operation_type=operation_type, operation=operation,
                         outcome=outcome)  # fmt: skip

    assert requests("query", "me", "INTERNAL_SERVER_ERROR") == 1
    assert requests("none", "none", "HTTP_200") == 0


def test_nothing_is_counted_while_metrics_are_off(alice):
    with METRICS_ON:
        change = Change()
    login("alice", "wrong")
    with METRICS_ON:
        assert change.of("graphql_auth_logins_total", result="invalid_credentials") == 0
        assert change.of("graphql_auth_requests_total", operation_type="mutation", operation="tokenAuth",
                         outcome="INVALID_CREDENTIALS") == 0  # fmt: skip


@METRICS_ON
def test_no_label_holds_anything_a_client_wrote(alice):
    """Operation names, field names, aliases, fragments, usernames, addresses and headers chosen by
    a client never reach a scrape, however many different ones it sends."""
    marker = f"hostile{secrets.token_hex(4)}"
    client = GraphQLClient()
    for number in range(30):
        name = f"{marker}{number}"
        client.execute(
            f"query {name} {{ {name}: me {{ id }} ...{name} }} fragment {name} on Query {{ me {{ id }} }}",
            HTTP_USER_AGENT=name, HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
        )  # fmt: skip
        client.execute(f"{{ {name} }}")
        client.execute(f"mutation {name} {{ {name}(x: 1) }}")
        Client().post(
            "/graphql/",
            json.dumps({"query": "query A { me { id } }", "operationName": name}),
            content_type="application/json",
        )
        login(f"{name}-user", f"{name}-password")
    text = scrape()
    assert marker not in text
    labels = {value for (_, pairs) in samples(text) for _, value in pairs}
    assert all(re.fullmatch(r"[A-Za-z0-9_:+.\-]*", label) for label in labels), labels
    operations = {dict(pairs)["operation"] for name, pairs in samples(text) if name == "graphql_auth_requests_total"}
    graphql_schema = schema._schema
    root_fields = {name for root in (graphql_schema.query_type, graphql_schema.mutation_type) for name in root.fields}
    assert operations <= root_fields | {"multiple", "unknown", "none", "__typename", "__schema", "__type"}, operations


@METRICS_ON
def test_open_websockets_and_subscriptions_are_gauges_others_move(db):
    change = Change()
    metrics.adjust(metrics.OPEN_WEBSOCKETS, +1)
    metrics.adjust(metrics.ACTIVE_SUBSCRIPTIONS, +2)
    metrics.adjust(metrics.ACTIVE_SUBSCRIPTIONS, -1)
    try:
        assert change.of("graphql_auth_open_websockets") == 1
        assert change.of("graphql_auth_active_subscriptions") == 1
    finally:
        metrics.adjust(metrics.OPEN_WEBSOCKETS, -1)
        metrics.adjust(metrics.ACTIVE_SUBSCRIPTIONS, -1)


@METRICS_ON
def test_the_mail_queue_is_read_at_each_scrape_and_a_failing_read_spares_the_rest(db, monkeypatch):
    monkeypatch.setattr(metrics.SCRAPE_TIME_GAUGES, "sources", {})
    waiting = [3]

    def failed():
        raise RuntimeError("the table is not there")

    metrics.watch_mail_queue(waiting=lambda: waiting[0], failed=failed)
    assert value(scrape(), "graphql_auth_mail_queue_depth") == 3
    waiting[0] = 0
    text = scrape()
    assert value(text, "graphql_auth_mail_queue_depth") == 0
    assert "graphql_auth_mail_failed_jobs" not in text
    assert "graphql_auth_open_websockets" in text


@METRICS_ON
def test_the_scrape_counts_the_mail_queue(db):
    from accounts.mail_queue import send_later
    from accounts.recovery import reset_mail

    before = value(scrape(), "graphql_auth_mail_queue_depth")
    send_later(reset_mail, address="nobody@example.com")
    assert value(scrape(), "graphql_auth_mail_queue_depth") == before + 1


def test_a_process_that_died_holds_no_websocket_open(tmp_path):
    """An ASGI server's worker that exits without gunicorn's child_exit: its live gauges go at the next scrape."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    opens = (
        "from prometheus_client import Gauge; import sys; "
        "Gauge('graphql_auth_open_websockets', '', multiprocess_mode='livesum').inc(); "
        "print('open', flush=True); sys.stdin.read()"
    )
    running = subprocess.Popen([sys.executable, "-c", opens], env=environment, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert running.stdout.readline() == "open\n"
        subprocess.run([sys.executable, "-c", opens], env=environment, input="", check=True, capture_output=True)
        assert open_websockets(tmp_path) == 2
        metrics.forget_dead_processes(str(tmp_path))
        assert open_websockets(tmp_path) == 1
    finally:
        running.communicate("")


def open_websockets(directory):
    files = [str(path) for path in directory.glob("*.db")]
    merged = multiprocess.MultiProcessCollector.merge(files)
    return sum(sample.value for family in merged for sample in family.samples)


@pytest.mark.slow
def test_figures_from_two_worker_processes_add_up(tmp_path):
    server = GunicornServer(tmp_path, workers=2, METRICS_ENABLED="1", TRUSTED_PROXY_COUNT="1", LOGIN_RATE_LIMIT="100/m")
    server.start()
    try:
        attempts = 24
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda number: server.post(LOGIN, {"username": f"user{number}", "password": "wrong"},
                                                     client_ip=f"203.0.113.{number}"), range(attempts)))  # fmt: skip
        time.sleep(0.2)  # gunicorn writes an access line after its response
        workers = {line.split()[0] for line in server.access_log.read_text().splitlines()}
        assert len(workers) == 2, "both workers should have answered some of the logins"
        # Whichever worker answers a scrape, it counts every worker's logins.
        for _ in range(4):
            status, _, body = server.get("/metrics")
            text = body.decode()
            assert status == 200
            assert value(text, "graphql_auth_logins_total", result="invalid_credentials") == attempts
            assert value(text, "graphql_auth_requests_total", operation_type="mutation", operation="tokenAuth",
                         outcome="INVALID_CREDENTIALS") == attempts  # fmt: skip
            assert value(text, "graphql_auth_request_duration_seconds_count", operation_type="mutation",
                         operation="tokenAuth") == attempts  # fmt: skip
    finally:
        server.stop()
