"""The operations endpoints (docs/deployment.md): /healthz, /readyz and, with METRICS_ENABLED, /metrics.

Answered by a middleware placed before Django's host check (CommonMiddleware) and HTTPS redirect
(SecurityMiddleware): probes and scrapers reach a process by its own address over plain HTTP,
which DJANGO_ALLOWED_HOSTS and DJANGO_SECURE_SSL_REDIRECT would otherwise refuse or redirect.
None of these answers builds a URL from the Host header, which is what the host check protects.
Only GET and HEAD; /metrics with METRICS_ENABLED off is any unknown path's 404.
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed

from project import health, metrics


def metrics_endpoint(request):
    if not metrics.scrape_allowed(request):
        return HttpResponse("A valid metrics token is required.\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type, headers={"Cache-Control": "no-store"})


ENDPOINTS = {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": metrics_endpoint}


def endpoint_for(request):
    endpoint = ENDPOINTS.get(request.path_info)
    if endpoint is metrics_endpoint and not settings.METRICS_ENABLED:
        return None
    if endpoint is not None and request.method not in ("GET", "HEAD"):
        return lambda request: HttpResponseNotAllowed(["GET", "HEAD"])
    return endpoint


class OperationsEndpoints:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = endpoint_for(request)
        return self.get_response(request) if endpoint is None else endpoint(request)
