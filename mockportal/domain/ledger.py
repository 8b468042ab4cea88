"""Charges and the purchased balance: acceptance, settlement, the month's spend, debits.

Settlement is lazy: a charge carries the portal-clock instant it settles at, and any read of
the org catches up on what is due (charges settle, plan cycles renew) in the same
`BEGIN IMMEDIATE` transaction, so a charge credits the balance exactly once however many
workers read it at the same moment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from mockportal.domain.clock import Clock, iso, month_start
from mockportal.domain.orgs import Card, Org, load_org
from mockportal.domain.plans import Renewals
from mockportal.store import Store
from mockportal.store.records import Charge
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


@dataclass(frozen=True)
class Outcome:
    """What a card attempt comes to: settle, fail with a reason, or stay pending forever;
    `after` is the seconds until it is known (None: the org's settle delay)."""

    outcome: str
    reason: str | None = None
    after: float | None = None


class Ledger:
    def __init__(self, store: Store, clock: Clock, renewals: Renewals):
        self._store = store
        self._clock = clock
        self._renewals = renewals

    def catch_up(self, org_id: str) -> None:
        """Everything due on the org by now: charges settle or fail, plan cycles renew."""
        with self._store.transaction():
            now = self._clock.now()
            for charge in self._store.due_charges(org_id, now):
                if charge.outcome == "settle":
                    self._store.finish_charge(charge.id, "settled", charge.settle_at)
                    self.credit(org_id, charge.amount)
                else:
                    self._store.finish_charge(charge.id, "failed", charge.settle_at)
            debt = self._renewals.apply_due(org_id, now)
            if debt:
                self.credit(org_id, debt)

    def credit(self, org_id: str, amount: Decimal) -> None:
        """Move the purchased balance P by `amount` (negative: a debit)."""
        org = load_org(self._store, org_id)
        self._store.update_org(org_id, balance=money(org.balance + amount))

    def spent_this_month(self, org_id: str) -> Decimal:
        """Pending and settled charges created in the current UTC calendar month."""
        since = month_start(self._clock.now())
        return sum(self._store.counted_charge_amounts(org_id, since), Decimal(0))

    def headroom(self, org: Org) -> Decimal:
        return max(Decimal(0), org.monthly_limit - self.spent_this_month(org.id))

    def next_outcome(self, org_id: str, card: Card | None) -> Outcome:
        """The scripted outcome first (it is used up), else what Stripe's test card gives."""
        scripted = self._store.pop_outcome(org_id)
        if scripted is not None:
            return Outcome(scripted["outcome"], scripted["reason"], scripted["after_seconds"])
        reason = TEST_CARD_FAILURES.get(card.last4) if card else "processing_error"
        return Outcome("fail" if reason else "settle", reason)

    def accept(self, org: Org, amount: Decimal, *, source: str, grant_id: str | None, card: Card) -> str:
        """Record an accepted charge on `card`, pending until its outcome is due."""
        with self._store.transaction():
            now = self._clock.now()
            outcome = self.next_outcome(org.id, card)
            after = org.settle_after if outcome.after is None else outcome.after
            charge_id = "ch_" + secrets.token_hex(12)
            self._store.insert_charge(Charge(
                id=charge_id, org_id=org.id, grant_id=grant_id, source=source, amount=amount,
                created_at=now, status="pending", outcome=outcome.outcome, reason=outcome.reason,
                settle_at=None if outcome.outcome == "pending" else now + after, settled_at=None))
            return charge_id

    def record_settled(self, org: Org, amount: Decimal, *, source: str, grant_id: str | None) -> str:
        """A charge paid synchronously (an upgrade): settled at once, and it does not credit P."""
        with self._store.transaction():
            now = self._clock.now()
            charge_id = "ch_" + secrets.token_hex(12)
            self._store.insert_charge(Charge(
                id=charge_id, org_id=org.id, grant_id=grant_id, source=source, amount=amount,
                created_at=now, status="settled", outcome="settle", reason=None,
                settle_at=now, settled_at=now))
            return charge_id

    def status(self, org_id: str, charge_id: str) -> ChargeStatus:
        """A charge as its own org sees it. Unknown and foreign ids read as pending."""
        with self._store.transaction():
            self.catch_up(org_id)
            charge = self._store.get_charge(org_id, charge_id)
        if charge is None or charge.status == "pending":
            return PENDING
        if charge.status == "settled":
            return ChargeStatus("settled", amount=charge.amount, settled_at=iso(charge.settled_at))
        return ChargeStatus("failed", reason=charge.reason)
