"""Prometheus metrics (docs/deployment.md): what the domain counts, and the /metrics exposition.

Every figure is counted only while METRICS_ENABLED is on (read on each call, so a test's
override_settings works) and exposed by project.operations at /metrics.

Several worker processes: prometheus-client's multiprocess mode. Each process writes its values
to files in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes a fresh one when none is given, and
forgets a worker's gauges when it exits), and a scrape, whichever worker answers it, adds up
the files of all of them. Without that variable (runserver, the test suite) the figures are
the one process's own.

Labels hold only words the server fixes, never a username, token, address or text a client
wrote: an operation is named by its root field (schema.operation_metrics), an outcome by the
contract's error code, a rate limit by its scope. A hostile client can neither add series
without bound nor make its own text appear in a scrape.

How other parts report (each one line at its choke point):
- @counting(counter, failure_result) on a domain function: `success`, or the result its failure maps to;
- count(counter, **labels) for one event;
- adjust(gauge, +1 / -1) for what is open now (OPEN_WEBSOCKETS, ACTIVE_SUBSCRIPTIONS);
- watch_mail_queue(waiting, failed) once at start: figures the database holds, read at each scrape.
"""

import hmac
import logging
import os
import re
from contextlib import contextmanager

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

# A `_created` series beside each counter doubles a scrape for a figure nobody charts (and
# multiprocess mode never has them), so a scrape looks the same with one process or several.
disable_created_metrics()

REQUESTS = Counter(
    "graphql_auth_requests",
    "GraphQL requests by operation type, operation (its root field, `multiple` for several) and outcome "
    "(`OK`, the first error's code, or `HTTP_<status>` for a request refused before any operation ran).",
    ["operation_type", "operation", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "graphql_auth_request_duration_seconds",
    "Time to run a GraphQL operation (parse, validate, execute), by operation type and operation.",
    ["operation_type", "operation"],
)
LOGINS = Counter(
    "graphql_auth_logins",
    "tokenAuth attempts by result: success, invalid_credentials, otp_required, otp_invalid, rate_limited.",
    ["result"],
)
OIDC_LOGINS = Counter(
    "graphql_auth_oidc_logins",
    "oidcLogin attempts by result: success, a reason of OIDC_FAILED, invalid_credentials, otp_required, "
    "otp_invalid, rate_limited.",
    ["result"],
)
REFRESHES = Counter(
    "graphql_auth_token_refreshes",
    "refreshToken calls by result: success, token_expired, token_invalid, token_revoked, rate_limited.",
    ["result"],
)
REFRESH_TOKEN_REUSE = Counter(
    "graphql_auth_refresh_token_reuse_detected",
    "Consumed refresh tokens presented again; each revoked its session.",
)
RATE_LIMITED = Counter(
    "graphql_auth_rate_limited",
    "Attempts refused by a rate limit, by the limit's scope (login:ip, password:user, token:ip, ...).",
    ["scope"],
)
# `livesum`: the sum over the processes still running; a process that died holds nothing open.
OPEN_WEBSOCKETS = Gauge("graphql_auth_open_websockets", "WebSocket connections open now.", multiprocess_mode="livesum")
ACTIVE_SUBSCRIPTIONS = Gauge(
    "graphql_auth_active_subscriptions", "GraphQL subscriptions running now.", multiprocess_mode="livesum"
)
MAIL_QUEUE_DEPTH = "graphql_auth_mail_queue_depth"
MAIL_FAILED_JOBS = "graphql_auth_mail_failed_jobs"


def enabled():
    return settings.METRICS_ENABLED


def count(counter, **labels):
    if enabled():
        (counter.labels(**labels) if labels else counter).inc()


def adjust(gauge, change):
    if enabled():
        gauge.inc(change)


def observe_request(operation_type, operation, outcome, seconds):
    if enabled():
        REQUESTS.labels(operation_type, operation, outcome).inc()
        REQUEST_SECONDS.labels(operation_type, operation).observe(seconds)


@contextmanager
def counting(counter, failure_result):
    """Count what a block (or, as a decorator, a call) comes to in `counter`'s `result` label:
    `success`, or `failure_result(error)` for the exception it raised (not counted when None)."""
    try:
        yield
    except Exception as error:
        result = failure_result(error)
        if result is not None:
            count(counter, result=result)
        raise
    count(counter, result="success")


class ScrapeTimeGauges:
    """Figures read when a scrape comes, from the database rather than from any one process (the
    mail queue lives in a table that every process, and no process alone, sees)."""

    def __init__(self):
        self.sources = {}

    def watch(self, name, documentation, source):
        self.sources[name] = (documentation, source)

    def describe(self):
        # Nothing to read at registration; collect() runs only for a scrape.
        return []

    def collect(self):
        for name, (documentation, source) in self.sources.items():
            try:
                value = source()
            except Exception:  # a scrape must still answer, with the figures that could be read
                logger.warning("Could not read %s for /metrics", name, exc_info=True)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


SCRAPE_TIME_GAUGES = ScrapeTimeGauges()
REGISTRY.register(SCRAPE_TIME_GAUGES)


def watch_mail_queue(waiting, failed):
    """Report the mail queue at every scrape: `waiting()` jobs not yet sent, `failed()` jobs whose
    last attempt failed (functions that count rows of the task table)."""
    SCRAPE_TIME_GAUGES.watch(MAIL_QUEUE_DEPTH, "Mails queued and not yet sent.", waiting)
    SCRAPE_TIME_GAUGES.watch(MAIL_FAILED_JOBS, "Mail jobs whose last attempt failed, still in the table.", failed)


def exposition():
    """(body, content type) of a scrape: every process's figures added up in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        forget_dead_processes(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, directory)
        registry.register(SCRAPE_TIME_GAUGES)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def forget_dead_processes(directory):
    """Drop the live gauges of processes that ended without gunicorn's child_exit (an ASGI
    server's workers, a killed process): what they held open is closed."""
    for name in os.listdir(directory):
        match = LIVE_GAUGE_FILE.fullmatch(name)
        if match and not _is_running(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), directory)


def _is_running(pid):
    try:
        os.kill(pid, 0)  # no signal: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        pass
    return True


def scrape_allowed(request):
    """No METRICS_TOKEN: anyone who reaches /metrics. Else only `Authorization: Bearer <token>`,
    compared in constant time."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return True
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), expected.encode())
