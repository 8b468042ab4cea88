"""Her plan as the steps see it: her org, its report at the portal, the cycle's end, and what
she does at her terminal, remembered for the Then steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from client.billing import CurrentPlan

from steps.support.scene import org_charges, she
from steps.support.terminal import attempt
from steps.support.vocabulary import PLANS

DAY = 86400
CYCLE = 30 * DAY
NAMES = {tier_id: name for name, tier_id in PLANS.items()}


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def her_org(context) -> str:
    return she(context).person.org_id


def her_report(context) -> dict:
    """Her org as the portal holds it: the plan's grant (G) and rollover (R) kept apart."""
    return context.control.org(her_org(context))


def cycle_end(context) -> float:
    return epoch(her_report(context)["subscription"]["cycleEndsAt"])


def current(context) -> CurrentPlan:
    """Her plan as her terminal reads it now; the step fails if she has none."""
    plan = she(context).plan()
    assert plan.current is not None, f"she has no plan ({plan})"
    return plan.current


def act(context, action: Callable[[], Any]) -> None:
    """Do what she does at her terminal; remember the ledger before it and what came of it."""
    context.charges_before = org_charges(context, her_org(context))
    context.attempt = attempt(action)
