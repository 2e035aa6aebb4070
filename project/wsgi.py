import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

# Servers run no system checks: refuse to serve when Redis could evict rate-limit counters.
from accounts.checks import check_at_startup  # noqa: E402 (needs the apps loaded)

check_at_startup()
