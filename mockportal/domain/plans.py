"""Plans on the portal clock (CONTRACT.md section 7): the catalogue, the 30-day cycle, renewal
and proration.

An org's plan holds two credit buckets: G, the subscription grant left this cycle (negative
is debt), and R, rollover (never negative). The third bucket, P, is the org's purchased
balance. A renewal runs at each period end that has passed, in turn:
  1. a cancellation ends the plan: G and R are forfeited, debt (G < 0) moves onto P;
  2. else a pending change becomes the tier;
  3. rollover: R := min(max(G, 0) + R, the new tier's monthly credits);
  4. the grant refreshes, repaying debt first: G := monthly credits + min(G, 0);
  5. the pending change is cleared and the next period starts at this one's end.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from mockportal.errors import NotFound, Unprocessable
from mockportal.store import Store
from mockportal.store.records import Plan, Tier

CYCLE_SECONDS = 30 * 24 * 3600
FREE_TIER = "nous-free"
CENT = Decimal("0.01")


def period_end(plan: Plan) -> float:
    return plan.period_start + CYCLE_SECONDS


def seconds_left(plan: Plan, now: float) -> int:
    """Whole portal-clock seconds left in the cycle (proration's numerator)."""
    return max(0, min(CYCLE_SECONDS, math.floor(period_end(plan) - now)))


def prorated_cents(current: Tier, target: Tier, left: int) -> int:
    """What an upgrade charges now: round_half_up((new price - old price) x 100 x f) cents,
    f = the fraction of the cycle left (Stripe `always_invoice`, the anchor stays put)."""
    cents = (target.price - current.price) * 100 * left / CYCLE_SECONDS
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def prorated_credits(current: Tier, target: Tier, left: int) -> Decimal:
    """What an upgrade adds to G now: round_half_up((new credits - old credits) x f, 0.01)."""
    return ((target.credits - current.credits) * left / CYCLE_SECONDS).quantize(CENT, rounding=ROUND_HALF_UP)


REJECTED = "subscription_mutation_rejected"


def require_plan(plan: Plan | None, code: str = REJECTED) -> Plan:
    """Only an org with a plan can change it (a team never has one)."""
    if plan is None:
        raise Unprocessable(code, "This organisation has no subscription to change; start one in the portal.")
    return plan


def target_problem(target: Tier) -> str | None:
    """Why a tier cannot be moved to, as a sentence the client prints; None if it can."""
    if target.is_free:
        return "To move to Free, cancel your subscription."
    if not target.enabled:
        return f"{target.name} is no longer offered; pick another plan."
    return None


class Catalogue:
    """The scenario's tiers."""

    def __init__(self, store: Store):
        self._store = store

    def tier(self, tier_id: str) -> Tier:
        tier = self._store.get_tier(tier_id)
        if tier is None:
            raise NotFound("unknown_tier", f"No tier {tier_id!r} in the catalogue.")
        return tier

    def find(self, tier_id: str) -> Tier | None:
        return self._store.get_tier(tier_id)

    def known(self, tier_id: str, code: str = REJECTED) -> Tier:
        """The tier with this id; an id not in the catalogue is a 422 `code`."""
        tier = self._store.get_tier(tier_id)
        if tier is None:
            raise Unprocessable(code, f"There is no plan {tier_id!r}.")
        return tier

    def listed_for(self, plan: Plan | None) -> list[Tier]:
        """What the org is offered: every enabled tier, and a disabled one only while it is
        the org's own (grandfathered)."""
        current = plan.tier_id if plan else None
        return [tier for tier in self._store.tiers() if tier.enabled or tier.id == current]


class Renewals:
    def __init__(self, store: Store):
        self._store = store

    def apply_due(self, org_id: str, now: float) -> Decimal:
        """Renew every cycle of the org's plan that has ended by `now` (see the module doc).
        Returns the debt a cancellation moves onto P (0 or negative) for the ledger to book.
        The caller holds the transaction."""
        plan = self._store.get_plan(org_id)
        if plan is None or period_end(plan) > now:
            return Decimal(0)
        while period_end(plan) <= now:
            if plan.cancel_at_period_end:
                self._store.delete_plan(org_id)
                return min(plan.grant, Decimal(0))
            renewed = self._renew(plan)
            if replace(renewed, period_start=plan.period_start) == plan:
                # A steady state (full grant, full rollover, nothing pending): every cycle still
                # to renew leaves it as it is, so skip to the last one rather than loop.
                cycles = math.floor((now - period_end(plan)) / CYCLE_SECONDS)
                renewed = replace(renewed, period_start=renewed.period_start + cycles * CYCLE_SECONDS)
            plan = renewed
        self._store.put_plan(plan)
        return Decimal(0)

    def _renew(self, plan: Plan) -> Plan:
        tier = self._store.get_tier(plan.pending_tier_id or plan.tier_id)
        rollover = min(max(plan.grant, Decimal(0)) + plan.rollover, tier.credits)
        grant = tier.credits + min(plan.grant, Decimal(0))
        return replace(plan, tier_id=tier.id, grant=grant, rollover=rollover, pending_tier_id=None,
                       period_start=period_end(plan))
