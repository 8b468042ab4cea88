"""JSON shapes of domain objects, exactly as the contract spells them."""

from __future__ import annotations

from typing import Any

from mockportal.domain.billing import BillingState
from mockportal.domain.ledger import ChargeStatus
from mockportal.domain.orgs import CHARGE_PRESETS, MAX_USD, MIN_USD, Org
from mockportal.wire import money


def auto_reload_view(org: Org) -> dict[str, Any]:
    rule = org.auto_reload
    return {"enabled": rule.enabled, "thresholdUsd": money(rule.threshold),
            "reloadToUsd": money(rule.reload_to),
            "card": {"kind": "canonical"} if org.card else None}


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
        "card": None if state.card is None else {"brand": state.card.brand, "last4": state.card.last4},
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
