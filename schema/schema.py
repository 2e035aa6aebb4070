"""The one Strawberry schema, assembled from each domain's queries and mutations."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.errors import ContractErrors, log_unexpected_errors
from schema.execution import PlainFieldShortcut
from schema.permissions import ConfiguredCodenamesOfInheritedFields
from schema.tasks.mutations import TaskMutations
from schema.tasks.queries import TaskQueries


@strawberry.type(description="Everything a client can read.")
class Query(AccountQueries, TaskQueries):
    pass


@strawberry.type(description="Everything a client can change.")
class Mutation(AccountMutations, TaskMutations):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):
        log_unexpected_errors(errors)


schema = Schema(
    query=Query,
    mutation=Mutation,
    execution_context_class=PlainFieldShortcut,
    extensions=[
        ContractErrors,
        ConfiguredCodenamesOfInheritedFields,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
