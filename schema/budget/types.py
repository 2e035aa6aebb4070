from datetime import UTC, datetime

import strawberry

from schema.permissions import inherit_visibility


@inherit_visibility
@strawberry.type(description="The viewer's budget of points for this hour, and what this operation costs from it.")
class RateLimit:
    limit: int = strawberry.field(description="Points the viewer may spend per hour (GRAPHQL_POINTS_PER_HOUR).")
    cost: int = strawberry.field(
        description="Points this operation costs: its connections' requests divided by 100, rounded, at least 1."
    )
    remaining: int = strawberry.field(description="Points left in this hour, after this operation.")
    used: int = strawberry.field(description="Points spent in this hour, this operation included.")
    reset_at: datetime = strawberry.field(
        description="When the budget is whole again: an hour after its first spent point (an hour from now if none)."
    )
    node_count: int = strawberry.field(description="The most nodes this operation may return.")

    @classmethod
    def of(cls, report):
        budget = report.budget
        return cls(
            limit=budget.limit,
            cost=report.cost,
            remaining=budget.remaining,
            used=budget.used,
            reset_at=datetime.fromtimestamp(budget.reset_at, UTC),
            node_count=report.node_count,
        )
