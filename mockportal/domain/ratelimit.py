"""Spend limits: how many spends of a kind an org (or a grant) may make in a window.

- Terminal charges: 5 accepted per rolling hour, per org and per grant. A charge counts while
  `accepted_at > now - WINDOW`; `Retry-After` is the whole number of seconds until enough of
  the oldest counted charges have left the window, so a retry after exactly that long is
  accepted and one a second sooner is not.
- Upgrades: 5 card attempts per org per UTC calendar day; `Retry-After` runs to midnight.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from mockportal.domain.clock import Clock
from mockportal.domain.tokens import Principal
from mockportal.errors import RateLimited
from mockportal.store import Store

LIMIT = 5
WINDOW_SECONDS = 3600
UPGRADE_ATTEMPTS_PER_DAY = 5


def seconds_until_slot(accepted_at: list[float], now: float, limit: int = LIMIT) -> int:
    """0 if a charge may be accepted now, else whole seconds until one may (oldest first)."""
    if len(accepted_at) < limit:
        return 0
    frees_at = accepted_at[len(accepted_at) - limit] + WINDOW_SECONDS
    return max(1, math.ceil(frees_at - now))


def day_bounds(now: float) -> tuple[float, float]:
    """The UTC calendar day holding `now`: its midnight and the next one."""
    start = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


class HourlyChargeLimit:
    def __init__(self, store: Store, clock: Clock, source: str = "terminal"):
        self._store = store
        self._clock = clock
        self._source = source

    def check(self, principal: Principal) -> None:
        """Gate 11: raise `rate_limited` if the org or this grant is out of slots."""
        now = self._clock.now()
        since = now - WINDOW_SECONDS
        times = self._store.charge_times
        wait = max(
            seconds_until_slot(times(self._source, org_id=principal.org_id, after=since), now),
            seconds_until_slot(times(self._source, grant_id=principal.grant_id, after=since), now),
        )
        if wait:
            raise RateLimited("rate_limited",
                              f"At most {LIMIT} terminal charges per hour; try again in {wait} s.",
                              retry_after=wait)


class DailyUpgradeAttempts:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def exhausted(self, org_id: str) -> int:
        """0 while the org has card attempts left today, else whole seconds to UTC midnight."""
        now = self._clock.now()
        midnight, next_midnight = day_bounds(now)
        if self._store.upgrade_attempts_since(org_id, midnight) < UPGRADE_ATTEMPTS_PER_DAY:
            return 0
        return max(1, math.ceil(next_midnight - now))

    def check(self, org_id: str) -> None:
        """Upgrade step 8: the sixth card attempt of the org's UTC day is refused until midnight."""
        wait = self.exhausted(org_id)
        if wait:
            raise RateLimited("upgrade_cap_exceeded",
                              "Daily plan-change limit reached; try again tomorrow.",
                              retry_after=wait, portalUrl="/billing")
