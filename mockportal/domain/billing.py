"""The terminal-billing use cases, each running the contract's gates in the contract's order.

Gate 1 (authentication) happens before these are called; every use case here starts at
gate 2 and runs in one serialised transaction, so concurrent requests with one
idempotency key produce exactly one charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mockportal.domain.clock import Clock
from mockportal.domain.idempotency import IdempotencyKeys, StoredResponse, require_key
from mockportal.domain.ledger import ChargeStatus, Ledger
from mockportal.domain.orgs import (MAX_USD, MIN_USD, AutoReload, Card, Org, can_change_plan,
                                    load_org, require_spender)
from mockportal.domain.ratelimit import RateLimiter
from mockportal.domain.tokens import BILLING_MANAGE, Principal, Tokens
from mockportal.errors import Forbidden, InvalidRequest
from mockportal.store import Store
from mockportal.wire import JsonBody, decimal_places, money, require_bool, require_number

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
    card: Card | None
    monthly_cap: MonthlyCap | None
    auto_reload: AutoReload | None


@dataclass(frozen=True)
class ChargeResult:
    response: StoredResponse
    replayed: bool


def require_cents(value: Decimal, field: str) -> Decimal:
    if decimal_places(value) > 2:
        raise InvalidRequest("validation_failed", f"{field} has more than 2 decimal places.")
    return value


def require_within_bounds(value: Decimal, field: str) -> Decimal:
    if not MIN_USD <= value <= MAX_USD:
        raise InvalidRequest("amount_out_of_bounds",
                             f"{field} must be between {money(MIN_USD)} and {money(MAX_USD)} USD.")
    return value


def charge_amount(body: JsonBody) -> Decimal:
    """Gate 7: the body is exactly `{"amountUsd": number}`, > 0, at most 2 dp, within bounds."""
    amount = require_number(body.object_with_exactly({"amountUsd"})["amountUsd"], "amountUsd")
    if amount <= 0:
        raise InvalidRequest("validation_failed", "amountUsd must be greater than 0.")
    return require_within_bounds(require_cents(amount, "amountUsd"), "amountUsd")


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
    def __init__(self, store: Store, clock: Clock, ledger: Ledger):
        self._store = store
        self._ledger = ledger
        self._keys = IdempotencyKeys(store, clock)
        self._limiter = RateLimiter(store, clock)

    def state(self, principal: Principal) -> BillingState:
        with self._store.transaction():
            self._ledger.settle_due(principal.org_id)
            org = load_org(self._store, principal.org_id)
            if not can_change_plan(principal.role):
                return BillingState(org, principal.role, False, None, None, None)
            cap = MonthlyCap(org.monthly_limit, self._ledger.spent_this_month(org.id), org.cap_limit is None)
            return BillingState(org, principal.role, True, org.card, cap, org.auto_reload)

    def submit_charge(self, principal: Principal, idempotency_key: str | None, body: JsonBody) -> ChargeResult:
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            org = load_org(self._store, principal.org_id)
            require_spender(principal, org)
            key = require_key(idempotency_key)
            amount = charge_amount(body)
            original = self._keys.replay(org.id, key, amount)
            if original is not None:
                return ChargeResult(original, replayed=True)
            if org.card is None:
                raise Forbidden("no_payment_method", "No saved card; add one in the portal.",
                                portal_url="/billing?topup=open")
            self._ledger.settle_due(org.id)
            headroom = self._ledger.headroom(org)
            if amount > headroom:
                raise Forbidden("monthly_cap_exceeded",
                                f"This charge would pass the monthly cap; {money(headroom)} USD remains.",
                                remainingUsd=money(headroom), isDefaultCeiling=org.cap_limit is None)
            self._limiter.check(principal)
            charge_id = self._ledger.accept(org, amount, source="terminal", grant_id=principal.grant_id)
            response = StoredResponse(202, {"chargeId": charge_id})
            self._keys.remember(org.id, key, amount, response)
            return ChargeResult(response, replayed=False)

    def charge_status(self, principal: Principal, charge_id: str) -> ChargeStatus:
        Tokens.require_scope(principal, BILLING_MANAGE)
        return self._ledger.status(principal.org_id, charge_id)

    def configure_auto_reload(self, principal: Principal, body: JsonBody) -> Org:
        Tokens.require_scope(principal, BILLING_MANAGE)
        with self._store.transaction():
            require_spender(principal, load_org(self._store, principal.org_id))
            rule = auto_reload_rule(body)
            self._store.update_org(principal.org_id, auto_enabled=int(rule.enabled),
                                   auto_threshold=money(rule.threshold),
                                   auto_reload_to=money(rule.reload_to))
            return load_org(self._store, principal.org_id)
