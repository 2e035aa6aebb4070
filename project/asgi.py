"""The ASGI application: HTTP through Django (the same view, middleware and limits as under WSGI),
and the WebSocket of subscriptions at /graphql/ (schema/sockets). Serve it with uvicorn:
`uvicorn project.asgi:application` (docs/subscriptions.md).

HTTP goes to Django's WSGI handler, run in one of ASGI_HTTP_THREADS threads (a2wsgi): the view
and every middleware are synchronous, and Django's ASGI handler would hand each request between
threads once per middleware hook and again for the view, which cost a list of 100 tasks about
half its throughput (docs/performance.md).
"""

import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# uvicorn's workers share one listening socket, and libuv (uvloop) accepts every pending
# connection in the worker that wakes first: 16 keep-alive connections opened together all landed
# on one of two workers in two counts of six, and that worker served them all on one core. With single
# accept, a worker pauses after each accept and the others take their share (docs/performance.md).
# libuv reads it when the server starts listening, after this module is imported; an
# operator's own value is kept.
os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
wsgi_application = get_wsgi_application()

# Imported once the apps are loaded.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.checks import check_at_startup  # noqa: E402
from schema.sockets.consumer import GraphQLSocket  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=settings.ASGI_HTTP_THREADS),
        "websocket": URLRouter([path("graphql/", GraphQLSocket.as_asgi())]),
    }
)

# Servers run no system checks: refuse to serve when Redis could evict rate-limit counters.
check_at_startup()
