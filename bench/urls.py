from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench.views import TaskViewSet, plain_tasks, rest_me
from project.urls import urlpatterns as project_urlpatterns

router = SimpleRouter()
router.register("rest/tasks", TaskViewSet, basename="task")

urlpatterns = [
    *project_urlpatterns,
    path("plain/tasks/", plain_tasks),
    path("rest/me/", rest_me),
    path("", include(router.urls)),
]
