"""Terminal charge rate limits: 5 accepted charges per rolling hour, per org and per grant.

A charge counts while `accepted_at > now - WINDOW`. `Retry-After` is the whole number of
seconds until enough of the oldest counted charges have left the window, so a retry after
exactly that long is accepted and one a second sooner is not.
"""

from __future__ import annotations

import math

from mockportal.domain.clock import Clock
from mockportal.domain.tokens import Principal
from mockportal.errors import RateLimited
from mockportal.store import Store

LIMIT = 5
WINDOW_SECONDS = 3600


def seconds_until_slot(accepted_at: list[float], now: float) -> int:
    """0 if a charge may be accepted now, else whole seconds until one may (oldest first)."""
    if len(accepted_at) < LIMIT:
        return 0
    frees_at = accepted_at[len(accepted_at) - LIMIT] + WINDOW_SECONDS
    return max(1, math.ceil(frees_at - now))


class RateLimiter:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def check(self, principal: Principal) -> None:
        """Gate 11: raise `rate_limited` if the org or this grant is out of slots."""
        now = self._clock.now()
        since = now - WINDOW_SECONDS
        wait = max(
            seconds_until_slot(self._store.terminal_charge_times(org_id=principal.org_id, after=since), now),
            seconds_until_slot(self._store.terminal_charge_times(grant_id=principal.grant_id, after=since), now),
        )
        if wait:
            raise RateLimited("rate_limited",
                              f"At most {LIMIT} terminal charges per hour; try again in {wait} s.",
                              retry_after=wait)
