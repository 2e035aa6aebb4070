from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider.misbehaviour import token_endpoint

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # Before DOT's own routes, so that this one answers /o/token/.
    path("o/token/", token_endpoint, name="token"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
