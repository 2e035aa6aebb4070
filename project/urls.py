from django.contrib import admin
from django.urls import path

from accounts.views import jwks
from schema.views import GraphQLView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", GraphQLView.as_view(), name="graphql"),
    path(".well-known/jwks.json", jwks, name="jwks"),
]
