"""The upgrade's own steps in the spend pipeline (CONTRACT.md section 7, upgrade steps 3, 5,
8, 9 and 10): what it asks for, whether the plan can take it, the day's card attempts, the
Stripe switch, and the synchronous charge on the subscription's card.

Proration: the cycle anchor stays put; the upgrade charges the price difference for the part
of the cycle left, and adds the credit difference for that part to G at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from mockportal.domain.idempotency import StoredResponse
from mockportal.domain.plans import (Catalogue, prorated_cents, prorated_credits, require_plan,
                                     seconds_left, target_problem)
from mockportal.errors import InvalidRequest, Unprocessable
from mockportal.store.records import Plan, Tier

if TYPE_CHECKING:
    from mockportal.domain.spending import Spend, SpendPipeline

UPGRADED, REQUIRES_ACTION, PAYMENT_FAILED, ALREADY_ON_TIER = (
    "upgraded", "requires_action", "payment_failed", "already_on_tier")


@dataclass(frozen=True)
class Quote:
    """An upgrade priced at one instant: what it charges now and what it adds to G."""

    current: Tier
    target: Tier
    cents: int
    credits: Decimal


def quote(plan: Plan, current: Tier, target: Tier, now: float) -> Quote:
    left = seconds_left(plan, now)
    return Quote(current, target, prorated_cents(current, target, left), prorated_credits(current, target, left))


def subscription_type_id(body) -> str:
    """The body of a preview or an upgrade: exactly `{"subscriptionTypeId": "<non-empty string>"}`."""
    tier_id = body.object_with_exactly({"subscriptionTypeId"})["subscriptionTypeId"]
    if not isinstance(tier_id, str) or not tier_id.strip():
        raise InvalidRequest("validation_failed", "subscriptionTypeId must be a non-empty string.")
    return tier_id


def target_tier(body) -> tuple[str, str]:
    """Step 3; the fingerprint of an upgrade is its target tier."""
    tier_id = subscription_type_id(body)
    return tier_id, tier_id


def _tier_fields(tier: Tier) -> dict:
    return {"targetTierId": tier.id, "targetTierName": tier.name}


def plan_change(pipeline: "SpendPipeline", spend: "Spend") -> StoredResponse | None:
    """Step 5: the org has a plan and the target is a known, offered, paid tier that costs
    more than the current one. The current tier itself answers `already_on_tier` (no charge,
    no cap used, remembered under the key)."""
    plan = require_plan(spend.plan)
    catalogue: Catalogue = pipeline.catalogue
    target = catalogue.known(spend.request)
    if target.id == plan.tier_id:
        return StoredResponse(200, {"status": ALREADY_ON_TIER, **_tier_fields(target),
                                    "amountChargedCents": 0})
    problem = target_problem(target)
    if problem:
        raise Unprocessable("subscription_mutation_rejected", problem)
    current = catalogue.tier(plan.tier_id)
    if target.price <= current.price:
        raise Unprocessable("subscription_mutation_rejected",
                            f"{target.name} does not cost more than {current.name}: downgrades are "
                            "scheduled for the end of the cycle; use pending-change.")
    spend.quote = quote(plan, current, target, pipeline.clock.now())
    spend.amount = Decimal(spend.quote.cents) / 100


def daily_attempts(pipeline: "SpendPipeline", spend: "Spend") -> None:
    """Step 8: five card attempts per org per UTC day."""
    pipeline.daily_upgrades.check(spend.org.id)


def stripe_available(pipeline: "SpendPipeline", spend: "Spend") -> None:
    """Step 9: with Stripe off, 503 before any charge ("definitely not charged")."""
    pipeline.stripe.require()


def card_attempt(outcome) -> tuple[str, str | None]:
    """A synchronous card attempt's status and reason. A card that needs the customer
    (`authentication_required`, or a scripted outcome that would stay pending) is
    `requires_action`; any other failure is `payment_failed`."""
    if outcome.outcome == "settle":
        return UPGRADED, None
    if outcome.outcome == "pending":
        return REQUIRES_ACTION, "authentication_required"
    status = REQUIRES_ACTION if outcome.reason == "authentication_required" else PAYMENT_FAILED
    return status, outcome.reason


def charge_subscription_card(pipeline: "SpendPipeline", spend: "Spend") -> StoredResponse:
    """Step 10: charge the card on the subscription now. Paid: the tier changes at once, G
    gains the prorated credits, any pending change or cancellation is cleared, and the payment
    is a settled charge (it counts in the month's spend, it does not credit P). Not paid: the
    plan is unchanged and the answer says how to finish on the portal."""
    org, plan, offer = spend.org, spend.plan, spend.quote
    status, reason = card_attempt(pipeline.ledger.next_outcome(org.id, spend.card))
    grant_id = spend.principal.grant_id
    pipeline.store.insert_upgrade_attempt({
        "org_id": org.id, "grant_id": grant_id, "target_tier_id": offer.target.id, "status": status,
        "reason": reason, "amount_cents": offer.cents if status == UPGRADED else 0,
        "at": pipeline.clock.now()})
    if status != UPGRADED:
        return StoredResponse(200, {"status": status, "reason": reason, **_tier_fields(offer.target),
                                    "recoveryUrl": f"/manage-subscription?org_id={org.id}"})
    if offer.cents:
        pipeline.ledger.record_settled(org, spend.amount, source="upgrade", grant_id=grant_id)
    pipeline.store.put_plan(replace(plan, tier_id=offer.target.id, grant=plan.grant + offer.credits,
                                    pending_tier_id=None, cancel_at_period_end=False))
    return StoredResponse(200, {"status": UPGRADED, **_tier_fields(offer.target),
                                "amountChargedCents": offer.cents})
