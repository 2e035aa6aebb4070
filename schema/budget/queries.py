from typing import Annotated

import strawberry

from schema.budget.types import RateLimit
from schema.permissions import AllowAny, protected_field


@strawberry.type
class BudgetQueries:
    @protected_field(
        AllowAny(),
        description=(
            "The viewer's budget of points (per user; per client address without credentials) and this operation's "
            "cost. With dryRun, the operation costs nothing and nothing else in it runs."
        ),
    )
    def rate_limit(
        self,
        info: strawberry.Info,
        dry_run: Annotated[
            bool | None,
            strawberry.argument(description="Report what the operation would cost without running or charging it."),
        ] = False,
    ) -> RateLimit | None:
        report = info.context.rate_limit
        return None if report is None else RateLimit.of(report)
