"""The two baselines GraphQL is measured against."""

from django.http import JsonResponse
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.authentication import authenticate
from tasks.models import Task


def plain_tasks(request):
    """(b) The floor: the same JWT and session check, one query for the page, a dict per task."""
    viewer = authenticate(request.headers.get("Authorization"))
    if not viewer.is_authenticated:
        return JsonResponse({"detail": "Authentication is required."}, status=401)
    tasks = Task.objects.filter(owner=viewer.user).select_related("owner").order_by("-created_at", "-id")[:100]
    return JsonResponse(
        {
            "results": [
                {
                    "id": task.pk,
                    "title": task.title,
                    "description": task.description,
                    "completed": task.completed,
                    "createdAt": task.created_at.isoformat(),
                    "updatedAt": task.updated_at.isoformat(),
                    "owner": {"username": task.owner.username},
                }
                for task in tasks
            ]
        }
    )


class OwnerSerializer(serializers.Serializer):
    username = serializers.CharField()


class TaskSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "title", "description", "completed", "created_at", "updated_at", "owner"]


class TaskViewSet(viewsets.ModelViewSet):
    """(d) The classic REST design: ModelViewSet, Simple JWT, PageNumberPagination (settings)."""

    serializer_class = TaskSerializer

    def get_queryset(self):
        return Task.objects.filter(owner=self.request.user).select_related("owner").order_by("-created_at", "-id")


@api_view(["GET"])
def rest_me(request):
    """(h) The viewer, as a DRF view with Simple JWT answers it (IsAuthenticated, settings)."""
    user = request.user
    return Response({"id": user.pk, "username": user.username, "email": user.email})
