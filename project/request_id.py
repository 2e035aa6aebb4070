"""One id per request (docs/deployment.md): in the response's X-Request-ID, on every log line
written while the request runs, in its audit events and in an INTERNAL_SERVER_ERROR's
`extensions.requestId`, so that a user's report leads to the server's side of the story.

The id is generated here unless a trusted proxy sent one (TRUSTED_PROXY_COUNT above 0): a
client that talks to the server directly must not choose the id its log lines carry, or it
could make its requests look like someone else's.
"""

import logging
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")

_current = ContextVar("request_id", default="")


def current():
    """The id of the request being served, or "" outside one."""
    return _current.get()


@contextmanager
def bound(request_id):
    """Everything inside runs as part of the request `request_id` (a WebSocket message, a task)."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


def new():
    return uuid.uuid4().hex


def for_request(request):
    """The proxy's id when a trusted proxy sent an acceptable one, else a new one."""
    sent = request.headers.get(HEADER, "")
    if settings.TRUSTED_PROXY_COUNT > 0 and ACCEPTED.fullmatch(sent):
        return sent
    return new()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every other middleware's log lines and responses have the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound(for_request(request)) as request_id:
            request.request_id = request_id
            response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` ("-" outside a request) for the formatters to print."""

    def filter(self, record):
        record.request_id = current() or "-"
        return True
