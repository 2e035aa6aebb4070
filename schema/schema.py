"""The one Strawberry schema, assembled from each domain's queries and mutations."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.accounts.apikeys import ApiKeyMutations, ApiKeyQueries
from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.accounts.totp import TotpMutations
from schema.errors import ContractErrors, log_unexpected_errors


@strawberry.type(description="Everything a client can read.")
class Query(AccountQueries, ApiKeyQueries):
    pass


@strawberry.type(description="Everything a client can change.")
class Mutation(AccountMutations, TotpMutations, ApiKeyMutations):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):
        log_unexpected_errors(errors)


schema = Schema(
    query=Query,
    mutation=Mutation,
    extensions=[ContractErrors, lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)
