"""The one Strawberry schema, assembled from each domain's queries and mutations."""

import strawberry
from django.conf import settings

from schema.accounts.apikeys import ApiKeyMutations, ApiKeyQueries
from schema.accounts.mutations import AccountMutations
from schema.accounts.oidc import OidcMutations, OidcQueries
from schema.accounts.queries import AccountQueries
from schema.accounts.recovery import RecoveryMutations
from schema.accounts.totp import TotpMutations
from schema.audit.queries import AuditQueries
from schema.codenames import InheritedFieldCodenames
from schema.errors import ContractErrors, log_unexpected_errors
from schema.execution import PlainFieldShortcut
from schema.limits import DocumentLimits
from schema.tasks.mutations import TaskMutations
from schema.tasks.queries import TaskQueries


@strawberry.type(description="Everything a client can read.")
class Query(AccountQueries, ApiKeyQueries, TaskQueries, AuditQueries, OidcQueries):
    pass


@strawberry.type(description="Everything a client can change.")
class Mutation(AccountMutations, RecoveryMutations, OidcMutations, TotpMutations, ApiKeyMutations, TaskMutations):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):
        log_unexpected_errors(errors)

    def _get_custom_context_kwargs(self, operation_extensions=None, *, sync=False):
        # Variable values are checked during execution, not validation (schema.limits):
        # outside DEBUG their errors must not suggest enum values either.
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": not settings.DEBUG}


schema = Schema(
    query=Query,
    mutation=Mutation,
    execution_context_class=PlainFieldShortcut,
    extensions=[ContractErrors, InheritedFieldCodenames, DocumentLimits],
)
