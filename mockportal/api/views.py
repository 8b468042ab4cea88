"""JSON shapes of domain objects, exactly as the contract spells them."""

from __future__ import annotations

from typing import Any

from mockportal.domain.billing import BillingState
from mockportal.domain.clock import iso
from mockportal.domain.credits import TOOL_ACCESS, Entitlement
from mockportal.domain.ledger import ChargeStatus
from mockportal.domain.orgs import CHARGE_PRESETS, MAX_USD, MIN_USD, Org, PaymentCard
from mockportal.domain.subscriptions import PendingChange, Preview, Subscription
from mockportal.wire import json_number, money


def _iso_or_none(timestamp: float | None) -> str | None:
    return None if timestamp is None else iso(timestamp)


def auto_reload_card_view(org: Org) -> dict[str, Any]:
    """Never null while `autoReload` is an object: the TUI reads `autoReload.card.kind`."""
    kind = org.reload_card_kind
    if kind != "distinct":
        return {"kind": kind}
    card = org.auto_reload_card
    return {"kind": kind, "paymentMethodId": org.reload_payment_method_id, "brand": card.brand,
            "last4": card.last4}


def auto_reload_view(org: Org) -> dict[str, Any]:
    rule = org.auto_reload
    return {"enabled": rule.enabled, "thresholdUsd": money(rule.threshold),
            "reloadToUsd": money(rule.reload_to), "card": auto_reload_card_view(org)}


def card_view(found: PaymentCard | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"brand": found.card.brand, "last4": found.card.last4, "resolvedVia": found.resolved_via}


def billing_state_view(state: BillingState) -> dict[str, Any]:
    org = state.org
    cap = state.monthly_cap
    return {
        "org": {"id": org.id, "slug": org.slug, "name": org.name, "role": state.role},
        "canChangePlan": state.can_change_plan,
        "balanceUsd": money(org.balance),
        "cliBillingEnabled": org.cli_billing_enabled,
        "chargePresets": [money(p) for p in CHARGE_PRESETS],
        "bounds": {"minUsd": money(MIN_USD), "maxUsd": money(MAX_USD)},
        "card": card_view(state.card),
        "monthlyCap": None if cap is None else {
            "limitUsd": money(cap.limit), "spentThisMonthUsd": money(cap.spent_this_month),
            "isDefaultCeiling": cap.is_default_ceiling},
        "autoReload": None if state.auto_reload is None else auto_reload_view(org),
        "portalUrl": "/billing?topup=open",
    }


def charge_status_view(charge: ChargeStatus) -> dict[str, Any]:
    if charge.status == "settled":
        return {"status": "settled", "amountUsd": money(charge.amount), "settledAt": charge.settled_at}
    if charge.status == "failed":
        return {"status": "failed", "reason": charge.reason}
    return {"status": "pending"}


def subscription_view(sub: Subscription) -> dict[str, Any]:
    org, current = sub.org, sub.current
    current_id = current.tier.id if current else None
    return {
        "org": {"id": org.id, "slug": org.slug, "name": org.name, "role": sub.role},
        "canChangePlan": sub.can_change_plan,
        "context": org.kind,
        "current": None if current is None else {
            "tierId": current.tier.id, "tierName": current.tier.name,
            "monthlyCredits": money(current.tier.credits),
            "creditsRemaining": money(current.credits_remaining),
            "cycleEndsAt": iso(current.cycle_ends_at),
            "pendingDowngradeTierName": current.pending_tier.name if current.pending_tier else None,
            "pendingDowngradeAt": iso(current.cycle_ends_at) if current.pending_tier else None,
            "cancelAtPeriodEnd": current.plan.cancel_at_period_end,
            "cancellationEffectiveAt": iso(current.cycle_ends_at) if current.plan.cancel_at_period_end else None,
        },
        # With no plan, Free is what the org is on.
        "tiers": [{"tierId": tier.id, "name": tier.name, "tierOrder": tier.order,
                   "dollarsPerMonthDisplay": money(tier.price), "monthlyCredits": money(tier.credits),
                   "isCurrent": tier.id == current_id or (current is None and tier.is_free),
                   "isEnabled": tier.enabled}
                  for tier in sub.tiers],
        "portalUrl": "/billing",
    }


def preview_view(preview: Preview) -> dict[str, Any]:
    return {
        "effect": preview.effect, "reason": preview.reason,
        "currentTierId": preview.current.id, "currentTierName": preview.current.name,
        "targetTierId": preview.target.id, "targetTierName": preview.target.name,
        "monthlyCreditsDelta": money(preview.target.credits - preview.current.credits),
        "amountDueNowCents": preview.amount_due_now_cents,
        "effectiveAt": _iso_or_none(preview.effective_at),
    }


def pending_change_view(change: PendingChange) -> dict[str, Any]:
    body: dict[str, Any] = {"rail": "stripe"}
    if change.target is not None:
        body.update(changeType=change.change_type, targetTierId=change.target.id,
                    targetTierName=change.target.name, effectiveAt=iso(change.effective_at))
    elif change.cancel_at_period_end:
        body.update(cancelAtPeriodEnd=True, effectiveAt=iso(change.effective_at))
    else:
        body.update(cancelAtPeriodEnd=False)
    return {**body, "message": change.message}


def upgrade_view(body: dict[str, Any], origin: str) -> dict[str, Any]:
    """The stored answer, with `recoveryUrl` made absolute from the request's own origin."""
    if "recoveryUrl" in body:
        return {**body, "recoveryUrl": origin.rstrip("/") + body["recoveryUrl"]}
    return body


def account_view(entitlement: Entitlement) -> dict[str, Any]:
    """Section 9: snake_case, and money as JSON numbers (the one place it is not a string)."""
    account, credits = entitlement.account, entitlement.credits
    tier = credits.tier
    return {
        "user": {"email": account.email, "name": account.name, "role": account.role,
                 "privy_did": entitlement.privy_did},
        "organisation": {"id": account.org.id, "slug": account.org.slug, "name": account.org.name},
        "subscription": None if tier is None else {
            "plan": tier.name, "tier": tier.order, "monthly_charge": json_number(tier.price),
            "monthly_credits": json_number(tier.credits), "current_period_end": iso(credits.period_end),
            "credits_remaining": json_number(credits.subscription_remaining),
            "rollover_credits": json_number(credits.rollover)},
        "purchased_credits_remaining": json_number(credits.purchased),
        "tool_access": TOOL_ACCESS,
        "paid_service_access": {
            "allowed": credits.allowed, "paid_access": credits.allowed, "reason": credits.reason,
            "organisation_id": account.org.id, "effective_at_ms": int(credits.at * 1000),
            "has_active_subscription": credits.has_plan, "active_subscription_is_paid": credits.paid_plan,
            "subscription_tier": tier.order if tier else 0,
            "subscription_monthly_charge": json_number(tier.price) if tier else 0,
            "subscription_credits_remaining": json_number(credits.subscription_remaining),
            "purchased_credits_remaining": json_number(credits.purchased),
            "total_usable_credits": json_number(credits.total_usable)},
    }
