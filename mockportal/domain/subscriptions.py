"""Subscriptions (CONTRACT.md section 7): reading the plan, previewing a change, scheduling a
downgrade or a cancellation and taking it back, and upgrading now.

Reading needs only a valid token; every change runs gates 1-5 of a charge first. Only a
personal org holds a plan; a team runs on its purchased balance. Direction is decided by
price: a dearer tier is an upgrade, charged now through the spend pipeline; a cheaper or
equally priced one is scheduled for the end of the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from mockportal.domain.clock import Clock, iso
from mockportal.domain.ledger import Ledger
from mockportal.domain.orgs import PERSONAL, Org, can_change_plan, load_org, require_spender
from mockportal.domain.plans import Catalogue, period_end, require_plan, target_problem
from mockportal.domain.spending import UPGRADE, SpendPipeline, SpendResult, payment_card
from mockportal.domain.stripe import StripeSwitch
from mockportal.domain.tokens import BILLING_MANAGE, Principal, Tokens
from mockportal.domain.upgrades import quote, subscription_type_id
from mockportal.errors import InvalidRequest, Unprocessable
from mockportal.store import Store
from mockportal.store.records import Plan, Tier
from mockportal.wire import JsonBody, money

NO_OP, BLOCKED, SCHEDULED, CHARGE_NOW = "no_op", "blocked", "scheduled", "charge_now"
TIER_CHANGE, CANCELLATION = "tier_change", "cancellation"


@dataclass(frozen=True)
class CurrentPlan:
    plan: Plan
    tier: Tier
    pending_tier: Tier | None

    @property
    def cycle_ends_at(self) -> float:
        return period_end(self.plan)

    @property
    def credits_remaining(self) -> Decimal:
        """G + R, signed."""
        return self.plan.grant + self.plan.rollover


@dataclass(frozen=True)
class Subscription:
    """What `GET /api/billing/subscription` shows; the same for every role."""

    org: Org
    role: str
    can_change_plan: bool
    current: CurrentPlan | None
    tiers: list[Tier]  # what the org is offered (none to a team)


@dataclass(frozen=True)
class Preview:
    effect: str
    reason: str | None
    current: Tier
    target: Tier
    amount_due_now_cents: int | None
    effective_at: float | None


@dataclass(frozen=True)
class PendingChange:
    """The answer to a PUT or DELETE of the pending change."""

    cancel_at_period_end: bool
    change_type: str | None  # downgrade | lateral, for a tier change
    target: Tier | None
    effective_at: float
    message: str


def day(timestamp: float) -> str:
    return iso(timestamp)[:10]


def pending_change_request(body: JsonBody) -> tuple[str, str | None]:
    """Exactly `{"type": "tier_change", "subscriptionTypeId": "<id>"}` or `{"type": "cancellation"}`."""
    fields = body.object()
    kind = fields.get("type")
    if kind == TIER_CHANGE and set(fields) == {"type", "subscriptionTypeId"}:
        tier_id = fields["subscriptionTypeId"]
        if isinstance(tier_id, str) and tier_id.strip():
            return TIER_CHANGE, tier_id
    if kind == CANCELLATION and set(fields) == {"type"}:
        return CANCELLATION, None
    raise InvalidRequest("validation_failed", 'Send {"type": "tier_change", "subscriptionTypeId": "<tier>"} '
                         'or {"type": "cancellation"}.')


class Subscriptions:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger, catalogue: Catalogue,
                 pipeline: SpendPipeline, stripe: StripeSwitch):
        self._store = store
        self._clock = clock
        self._ledger = ledger
        self._catalogue = catalogue
        self._pipeline = pipeline
        self._stripe = stripe

    def read(self, principal: Principal) -> Subscription:
        """Gate 1 only; `canChangePlan` is the role rule, whatever the kill-switch says."""
        with self._store.transaction():
            self._ledger.catch_up(principal.org_id)
            org = load_org(self._store, principal.org_id)
            plan = self._store.get_plan(org.id)
            tiers = self._catalogue.listed_for(plan) if org.kind == PERSONAL else []
            return Subscription(org, principal.role, can_change_plan(principal.role),
                                None if plan is None else self._current(plan), tiers)

    def preview(self, principal: Principal, body: JsonBody) -> Preview:
        """Gates 1-5, the body, then 422 `preview_rejected` for an unknown tier or no plan;
        the effect is `no_op`, `blocked`, `scheduled` or `charge_now`, in that order. Nothing
        changes."""
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            org, plan = self._changer(principal)
            tier_id = subscription_type_id(body)
            plan = require_plan(plan, "preview_rejected")
            target = self._catalogue.known(tier_id, "preview_rejected")
            current = self._catalogue.tier(plan.tier_id)
            if target.id == current.id:
                return Preview(NO_OP, None, current, target, None, None)
            problem = target_problem(target)
            if problem:
                return Preview(BLOCKED, problem, current, target, None, None)
            if target.price <= current.price:
                return Preview(SCHEDULED, None, current, target, None, period_end(plan))
            offer = quote(plan, current, target, self._clock.now())
            problem = self._upgrade_problem(org, plan, Decimal(offer.cents) / 100)
            if problem:
                return Preview(BLOCKED, problem, current, target, None, None)
            cents = offer.cents if self._stripe.status().available else None
            return Preview(CHARGE_NOW, None, current, target, cents, None)

    def schedule(self, principal: Principal, body: JsonBody) -> PendingChange:
        """PUT: a downgrade or same-price change, or a cancellation, for the end of the cycle.
        It replaces whatever was pending. Gates 1-5, the body, 422 for what the plan cannot
        take, then 503 while Stripe is off."""
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            org, plan = self._changer(principal)
            kind, tier_id = pending_change_request(body)
            plan = require_plan(plan)
            current = self._catalogue.tier(plan.tier_id)
            ends = period_end(plan)
            if kind == CANCELLATION:
                self._stripe.require()
                self._store.put_plan(replace(plan, pending_tier_id=None, cancel_at_period_end=True))
                return PendingChange(True, None, None, ends,
                                     f"{current.name} ends on {day(ends)} and will not renew.")
            target = self._downgrade_target(current, tier_id)
            self._stripe.require()
            self._store.put_plan(replace(plan, pending_tier_id=target.id, cancel_at_period_end=False))
            change_type = "lateral" if target.price == current.price else "downgrade"
            return PendingChange(False, change_type, target, ends,
                                 f"You move to {target.name} on {day(ends)} and keep {current.name} until then.")

    def unschedule(self, principal: Principal) -> PendingChange:
        """DELETE: clear a pending downgrade or cancellation (nothing pending is the same 200).
        It re-enables recurring spend, so gates 1-5 apply, then 422 without a plan, then 503
        while Stripe is off."""
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            _, plan = self._changer(principal)
            plan = require_plan(plan)
            self._stripe.require()
            self._store.put_plan(replace(plan, pending_tier_id=None, cancel_at_period_end=False))
            current = self._catalogue.tier(plan.tier_id)
            ends = period_end(plan)
            return PendingChange(False, None, None, ends,
                                 f"Your scheduled change was removed; {current.name} renews on {day(ends)}.")

    def upgrade(self, principal: Principal, idempotency_key: str | None, body: JsonBody) -> SpendResult:
        """The only money route of a plan: the upgrade policy of the spend pipeline."""
        return self._pipeline.run(UPGRADE, principal, principal.org_id, key_header=idempotency_key, body=body)

    # -- helpers ----------------------------------------------------------------------------
    def _current(self, plan: Plan) -> CurrentPlan:
        pending = None if plan.pending_tier_id is None else self._catalogue.tier(plan.pending_tier_id)
        return CurrentPlan(plan, self._catalogue.tier(plan.tier_id), pending)

    def _changer(self, principal: Principal) -> tuple[Org, Plan | None]:
        """Gates 3-5 for a plan change, after the org has caught up on what is due."""
        self._ledger.catch_up(principal.org_id)
        org = load_org(self._store, principal.org_id)
        require_spender(principal, org)
        return org, self._store.get_plan(org.id)

    def _downgrade_target(self, current: Tier, tier_id: str) -> Tier:
        target = self._catalogue.known(tier_id)
        if target.id == current.id:
            raise Unprocessable("subscription_mutation_rejected",
                                f"You are already on {current.name}: nothing to schedule. "
                                "DELETE the pending change to undo one.")
        problem = target_problem(target)
        if problem:
            raise Unprocessable("subscription_mutation_rejected", problem)
        if target.price > current.price:
            raise Unprocessable("subscription_mutation_rejected",
                                f"{target.name} costs more than {current.name}: upgrades are charged now "
                                "on the upgrade route, not scheduled here.")
        return target

    def _upgrade_problem(self, org: Org, plan: Plan, amount: Decimal) -> str | None:
        """Why an upgrade committed now would be refused, as a sentence; None if it would run."""
        if payment_card(org, plan) is None:
            return "No saved card: add one in the portal before upgrading."
        headroom = self._ledger.headroom(org)
        if amount > headroom:
            return f"This upgrade would pass the monthly spending cap: {money(headroom)} USD remains this month."
        if self._pipeline.daily_upgrades.exhausted(org.id):
            return "Daily plan-change limit reached; try again tomorrow."
        return None
