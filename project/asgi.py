import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_asgi_application()

# Servers run no system checks: refuse to serve when Redis could evict rate-limit counters.
from accounts.checks import check_at_startup  # noqa: E402 (needs the apps loaded)

check_at_startup()
