"""Each viewer's hourly budget of points (docs/security.md), counted where the rate limits are.

A budget belongs to a user (whoever the access token or API key names), or to a client address
for anonymous requests and requests whose credential was refused. It holds
settings.GRAPHQL_POINTS_PER_HOUR points per window; a window starts with the first points spent
and lasts WINDOW_SECONDS, after which the budget is whole again.

One counter per budget, in the rate-limit counters' cache (settings.RATELIMIT_USE_CACHE: Redis or
project.cache.CounterDatabaseCache, shared by every process and never evicted before it expires).
Its value is the window's start (epoch seconds) times WINDOW_START, plus the points spent, and it
expires when the window ends. So one atomic increment both spends and tells which window it
spent in, and every process agrees on when the window ends without a second key that could
expire apart from the first. A process whose clock says the window is over starts the next one
even while the cache, whose clock may run behind (Redis's), still holds the counter: the budget
is whole at the resetAt it announced.

Spending more than remains is refused and undone at once (the increment is given back), so a
refusal spends nothing. Between the two, a concurrent request of the same budget may see it
fuller than it ends up, and be refused when it would just have fitted; used + remaining = limit
holds in every answer all the same.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from accounts.exceptions import RateLimited

WINDOW_SECONDS = 3600
WINDOW_START = 10**9  # settings refuse a GRAPHQL_POINTS_PER_HOUR this large


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    reset_at: int  # epoch seconds: when the window ends, or would end if it started now

    @property
    def remaining(self):
        return self.limit - self.used

    def seconds_left(self):
        return max(1, self.reset_at - int(time.time()))


class BudgetExceeded(RateLimited):
    def __init__(self, budget, cost):
        message = (
            f"This operation costs {cost} points and {budget.remaining} of {budget.limit} remain; "
            f"the budget is whole again in {budget.seconds_left()} s."
        )
        super().__init__(retry_after=budget.seconds_left(), message=message)
        self.budget = budget


def holder(viewer, meta):
    """Whose budget a request spends: its user's, or its client address's."""
    return f"user:{viewer.user.pk}" if viewer.is_authenticated else f"ip:{meta.client_key}"


def _counters():
    return caches[settings.RATELIMIT_USE_CACHE]


def _key(budget_holder):
    return f"budget:{budget_holder}"


def _ended(counter):
    """Whether the counter's window is over by this process's clock, though the cache still holds it
    (the cache's clock, Redis's, runs behind): the budget must be whole at the reset_at it promised."""
    return counter // WINDOW_START + WINDOW_SECONDS <= time.time()


def _budget(counter, spent_now=0):
    limit = settings.GRAPHQL_POINTS_PER_HOUR
    if counter is None or _ended(counter):
        return Budget(limit, 0, int(time.time()) + WINDOW_SECONDS)
    start, used = divmod(counter, WINDOW_START)
    # A lowered limit, or another request's increment about to be given back, must not show more
    # used than the limit.
    return Budget(limit, min(used - spent_now, limit), start + WINDOW_SECONDS)


def current(budget_holder):
    """The budget as it stands, spending nothing."""
    return _budget(_counters().get(_key(budget_holder)))


def spend(budget_holder, points):
    """Spend `points` from the budget and return it; BudgetExceeded (nothing spent) when fewer remain."""
    counters, key = _counters(), _key(budget_holder)
    try:
        counter = counters.incr(key, points)
    except ValueError:  # no window yet (or it has just ended)
        counter = None
    if counter is not None and _ended(counter):
        # Two processes may both get here at once; the later delete then drops the points the
        # other spent in the new window's first moment.
        counters.delete(key)
        counter = None
    if counter is None:
        if points > settings.GRAPHQL_POINTS_PER_HOUR:
            raise BudgetExceeded(_budget(None), points)
        # Another process may start the window first; add() then leaves its start in place. Both
        # backends keep a key through the second it expires in, so it expires a second early:
        # at reset_at the budget is whole.
        counters.add(key, int(time.time()) * WINDOW_START, timeout=WINDOW_SECONDS - 1)
        counter = counters.incr(key, points)
    budget = _budget(counter)
    if counter % WINDOW_START > budget.limit:
        counters.decr(key, points)
        raise BudgetExceeded(_budget(counter, spent_now=points), points)
    return budget
