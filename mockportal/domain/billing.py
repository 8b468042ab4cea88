"""The terminal-billing use cases, each running the contract's gates in the contract's order.

Gate 1 (authentication) happens before these are called; every use case here starts at
gate 2 and runs in one serialised transaction, so concurrent requests with one
idempotency key produce exactly one charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mockportal.domain.ledger import ChargeStatus, Ledger
from mockportal.domain.orgs import AutoReload, Org, PaymentCard, can_change_plan, load_org, require_spender
from mockportal.domain.spending import (TERMINAL_CHARGE, SpendPipeline, SpendResult, require_cents,
                                        require_within_bounds)
from mockportal.domain.tokens import BILLING_MANAGE, Principal, Tokens
from mockportal.errors import InvalidRequest
from mockportal.store import Store
from mockportal.wire import JsonBody, money, require_bool, require_number

AUTO_RELOAD_KEYS = {"enabled", "threshold", "topUpAmount"}


@dataclass(frozen=True)
class MonthlyCap:
    limit: Decimal
    spent_this_month: Decimal
    is_default_ceiling: bool


@dataclass(frozen=True)
class BillingState:
    """What `/api/billing/state` shows; card, cap and auto-reload only to billing roles."""

    org: Org
    role: str
    can_change_plan: bool
    card: PaymentCard | None
    monthly_cap: MonthlyCap | None
    auto_reload: AutoReload | None


def auto_reload_rule(body: JsonBody) -> AutoReload:
    """`{"enabled", "threshold", "topUpAmount"}`: bounded and ordered when enabled, else non-negative."""
    fields = body.object_with_exactly(AUTO_RELOAD_KEYS)
    enabled = require_bool(fields["enabled"], "enabled")
    threshold = require_number(fields["threshold"], "threshold")
    reload_to = require_number(fields["topUpAmount"], "topUpAmount")
    if not enabled:
        if threshold < 0 or reload_to < 0:
            raise InvalidRequest("validation_failed", "threshold and topUpAmount must not be negative.")
        return AutoReload(False, threshold, reload_to)
    for value, field in ((threshold, "threshold"), (reload_to, "topUpAmount")):
        require_within_bounds(require_cents(value, field), field)
    if reload_to <= threshold:
        raise InvalidRequest("validation_failed", "topUpAmount (the balance to reload to) must be "
                             "greater than threshold.")
    return AutoReload(True, threshold, reload_to)


class Billing:
    def __init__(self, store: Store, ledger: Ledger, pipeline: SpendPipeline):
        self._store = store
        self._ledger = ledger
        self._pipeline = pipeline

    def state(self, principal: Principal) -> BillingState:
        """Section 3: everyone sees the balance; card, cap and auto-reload are for billing roles."""
        with self._store.transaction():
            self._ledger.catch_up(principal.org_id)
            org = load_org(self._store, principal.org_id)
            if not can_change_plan(principal.role):
                return BillingState(org, principal.role, False, None, None, None)
            card = org.payment_card(has_plan=self._store.get_plan(org.id) is not None)
            cap = MonthlyCap(org.monthly_limit, self._ledger.spent_this_month(org.id), org.cap_limit is None)
            return BillingState(org, principal.role, True, card, cap, org.auto_reload)

    def submit_charge(self, principal: Principal, idempotency_key: str | None, body: JsonBody) -> SpendResult:
        """Section 4: a terminal charge through the spend pipeline (gates 2-12)."""
        return self._pipeline.run(TERMINAL_CHARGE, principal, principal.org_id,
                                  key_header=idempotency_key, body=body)

    def charge_status(self, principal: Principal, charge_id: str) -> ChargeStatus:
        """Gates 1-2 only: a charge in flight stays observable after the kill-switch is off."""
        Tokens.require_scope(principal, BILLING_MANAGE)
        return self._ledger.status(principal.org_id, charge_id)

    def configure_auto_reload(self, principal: Principal, body: JsonBody) -> Org:
        """Section 5: gates 1-5, then the rule itself."""
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            require_spender(principal, load_org(self._store, principal.org_id))
            rule = auto_reload_rule(body)
            self._store.update_org(principal.org_id, auto_enabled=int(rule.enabled),
                                   auto_threshold=money(rule.threshold),
                                   auto_reload_to=money(rule.reload_to))
            return load_org(self._store, principal.org_id)
