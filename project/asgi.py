"""The ASGI application: HTTP through Django (the same view, middleware and limits as under WSGI),
and the WebSocket of subscriptions at /graphql/ (schema/sockets). Serve it with uvicorn:
`uvicorn project.asgi:application` (docs/subscriptions.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_application = get_asgi_application()

# Imported once the apps are loaded.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.checks import check_at_startup  # noqa: E402
from schema.sockets.consumer import GraphQLSocket  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter([path("graphql/", GraphQLSocket.as_asgi())]),
    }
)

# Servers run no system checks: refuse to serve when Redis could evict rate-limit counters.
check_at_startup()
