"""Charges and the balance: acceptance, settlement, usage debits and auto-reload.

Settlement is lazy: a charge carries the portal-clock instant it settles at, and any read of
the org settles what is due. Reading the due charges and settling them happen in one
`BEGIN IMMEDIATE` transaction, so a charge credits the balance exactly once however many
workers read it at the same moment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from mockportal.domain.clock import Clock, iso, month_start
from mockportal.domain.orgs import Org, load_org
from mockportal.store import Store
from mockportal.wire import money

FAILURE_REASONS = ("card_declined", "authentication_required", "payment_method_expired",
                   "processing_error")
# Stripe's test cards, by last4: the outcome a charge on that card gets (None = succeeds).
TEST_CARD_FAILURES = {"0002": "card_declined", "3184": "authentication_required",
                      "0069": "payment_method_expired", "0119": "processing_error"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ChargeStatus:
    status: str  # pending | settled | failed
    amount: Decimal | None = None
    settled_at: str | None = None
    reason: str | None = None


PENDING = ChargeStatus("pending")


class Ledger:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def settle_due(self, org_id: str) -> None:
        """Settle or fail every charge of the org whose time has come."""
        with self._store.transaction():
            for charge in self._store.due_charges(org_id, self._clock.now()):
                if charge["outcome"] == "settle":
                    self._store.finish_charge(charge["id"], "settled", charge["settle_at"])
                    org = load_org(self._store, org_id)
                    self._store.update_org(org_id, balance=money(org.balance + Decimal(charge["amount"])))
                else:
                    self._store.finish_charge(charge["id"], "failed", charge["settle_at"])

    def spent_this_month(self, org_id: str) -> Decimal:
        """Pending and settled charges created in the current UTC calendar month."""
        since = month_start(self._clock.now())
        return sum((Decimal(a) for a in self._store.counted_charge_amounts(org_id, since)), Decimal(0))

    def headroom(self, org: Org) -> Decimal:
        return max(Decimal(0), org.monthly_limit - self.spent_this_month(org.id))

    def accept(self, org: Org, amount: Decimal, *, source: str, grant_id: str | None) -> str:
        """Record an accepted charge; its outcome is scripted, or decided by the saved card."""
        with self._store.transaction():
            now = self._clock.now()
            scripted = self._store.pop_outcome(org.id)
            if scripted is not None:
                outcome, reason = scripted["outcome"], scripted["reason"]
                after = org.settle_after if scripted["after_seconds"] is None else scripted["after_seconds"]
            else:
                reason = TEST_CARD_FAILURES.get(org.card.last4) if org.card else "processing_error"
                outcome, after = ("fail" if reason else "settle"), org.settle_after
            charge_id = "ch_" + secrets.token_hex(12)
            self._store.insert_charge({
                "id": charge_id, "org_id": org.id, "grant_id": grant_id, "source": source,
                "amount": money(amount), "created_at": now, "status": "pending",
                "outcome": outcome, "reason": reason,
                "settle_at": None if outcome == "pending" else now + after})
            return charge_id

    def status(self, org_id: str, charge_id: str) -> ChargeStatus:
        """A charge as its own org sees it. Unknown and foreign ids read as pending."""
        with self._store.transaction():
            self.settle_due(org_id)
            charge = self._store.get_charge(org_id, charge_id)
        if charge is None or charge["status"] == "pending":
            return PENDING
        if charge["status"] == "settled":
            return ChargeStatus("settled", amount=Decimal(charge["amount"]),
                                settled_at=iso(charge["settled_at"]))
        return ChargeStatus("failed", reason=charge["reason"])

    def debit_usage(self, org_id: str, amount: Decimal) -> None:
        """Take usage off the balance (as inference would), then reload if that crossed the threshold."""
        with self._store.transaction():
            self.settle_due(org_id)
            org = load_org(self._store, org_id)
            self._store.update_org(org_id, balance=money(org.balance - amount))
            self._store.insert_usage(org_id, money(amount), self._clock.now())
            self._auto_reload(load_org(self._store, org_id))

    def _auto_reload(self, org: Org) -> None:
        """Charge the saved card back up to the reload-to balance, within the monthly cap."""
        rule = org.auto_reload
        if not rule.enabled or org.card is None or org.balance >= rule.threshold:
            return
        if self._store.has_pending_auto_reload(org.id):
            return  # one reload in flight at a time, or a burst of debits would stack reloads
        amount = min((rule.reload_to - org.balance).quantize(CENT, rounding=ROUND_UP), self.headroom(org))
        if amount >= CENT:
            self.accept(org, amount, source="auto_reload", grant_id=None)
