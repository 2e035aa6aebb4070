"""The one Strawberry schema, assembled from each domain's queries and mutations."""

from functools import partial

import strawberry
from django.conf import settings

from schema.accounts.apikeys import ApiKeyMutations, ApiKeyQueries
from schema.accounts.mutations import AccountMutations
from schema.accounts.oidc import OidcMutations, OidcQueries
from schema.accounts.queries import AccountQueries
from schema.accounts.recovery import RecoveryMutations
from schema.accounts.totp import TotpMutations
from schema.audit.queries import AuditQueries
from schema.budget.queries import BudgetQueries
from schema.codenames import InheritedFieldCodenames
from schema.errors import ContractErrors, log_unexpected_errors
from schema.execution import BudgetedExecution, PlainFieldShortcut
from schema.limits import DocumentLimits
from schema.operation_metrics import OperationMetrics
from schema.persisted import PersistedQueryRegistration
from schema.tasks.mutations import TaskMutations
from schema.tasks.queries import TaskQueries
from schema.tasks.subscriptions import TaskSubscriptions


@strawberry.type(description="Everything a client can read.")
class Query(AccountQueries, ApiKeyQueries, TaskQueries, AuditQueries, BudgetQueries, OidcQueries):
    pass


@strawberry.type(description="Everything a client can change.")
class Mutation(AccountMutations, RecoveryMutations, OidcMutations, TotpMutations, ApiKeyMutations, TaskMutations):
    pass


@strawberry.type(description="Live updates, over the WebSocket at /graphql/ (graphql-transport-ws).")
class Subscription(TaskSubscriptions):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):
        log_unexpected_errors(errors)


def build_schema(tracing, tracer_provider=None, shortcut=True):
    """The schema, with spans for its operations when `tracing` (from `tracer_provider`, else
    OpenTelemetry's global one), and the plain-field shortcut of schema.execution when `shortcut`."""
    # The first extensions listed see the others' work done: metrics and spans see the error codes
    # ContractErrors gives.
    observers = [OperationMetrics]
    if tracing:
        from schema.tracing import OperationTracing

        observers.insert(0, partial(OperationTracing, tracer_provider=tracer_provider))
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=PlainFieldShortcut if shortcut else BudgetedExecution,
        # DocumentLimits charges the budget as execution starts: after InheritedFieldCodenames, whose
        # refusal must spend nothing.
        extensions=[*observers, ContractErrors, InheritedFieldCodenames, DocumentLimits, PersistedQueryRegistration],
    )


schema = build_schema(tracing=settings.TRACING_ENABLED, shortcut=settings.GRAPHQL_EXECUTION_SHORTCUT)
