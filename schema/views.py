from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView as StrawberryGraphQLView

from schema.schema import schema
from schema.context import Context


# Credentials travel in headers, never cookies, and a cross-site form cannot send
# application/json, so Django's cookie-based CSRF check has nothing to protect here.
@method_decorator(csrf_exempt, name="dispatch")
class GraphQLView(StrawberryGraphQLView):
    def __init__(self, **kwargs):
        super().__init__(schema=schema, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        self.graphql_ide = "graphiql" if settings.GRAPHIQL else None
        return super().dispatch(request, *args, **kwargs)

    def get_context(self, request, response):
        return Context(request=request, response=response)
