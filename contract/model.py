"""A plain in-memory model of one org's billing, written from CONTRACT.md and the README's
contract choices (not from the portal's code), for the stateful property to compare against.

Time is the portal clock in epoch seconds. Settlement is a function of time: a charge's
outcome and instant are fixed when it is accepted, so its status at any moment is known.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_UP, Decimal

MIN_USD, MAX_USD = Decimal(10), Decimal(10000)
DEFAULT_CEILING = Decimal(1000)
CENT = Decimal("0.01")
RATE_LIMIT, RATE_WINDOW = 5, 3600
KEY_TTL = 24 * 3600
# Stripe's test cards: the failure a charge on them gets; any other card succeeds.
CARD_FAILURES = {"0002": "card_declined", "3184": "authentication_required",
                 "0069": "payment_method_expired", "0119": "processing_error"}


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_start(timestamp: float) -> float:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass
class Charge:
    id: str
    amount: Decimal
    created_at: float
    source: str  # terminal | auto_reload
    outcome: str  # succeed | fail | pending (forever)
    reason: str | None
    settle_at: float | None

    def status(self, now: float) -> str:
        if self.settle_at is None or now < self.settle_at:
            return "pending"
        return "settled" if self.outcome == "succeed" else "failed"

    def view(self, now: float) -> dict:
        """`GET /api/billing/charge/{id}` for this org's own charge."""
        status = self.status(now)
        if status == "settled":
            return {"status": "settled", "amountUsd": self.amount, "settledAt": iso(self.settle_at)}
        if status == "failed":
            return {"status": "failed", "reason": self.reason}
        return {"status": "pending"}


@dataclass
class Outcome:
    """A scripted outcome for the org's next charge (`afterSeconds` None: the org's default)."""

    outcome: str  # settle | fail | pending
    reason: str | None = None
    after_seconds: int | None = None


@dataclass
class AutoReload:
    enabled: bool
    threshold: Decimal
    reload_to: Decimal


@dataclass
class OrgModel:
    seed_balance: Decimal
    card_last4: str | None
    billing_enabled: bool
    cap_limit: Decimal | None
    auto_reload: AutoReload
    settle_after: int
    charges: list[Charge] = field(default_factory=list)
    usage: list[Decimal] = field(default_factory=list)
    scripted: deque[Outcome] = field(default_factory=deque)
    keys: dict[str, tuple[Decimal, str, float]] = field(default_factory=dict)  # key -> (amount, id, at)

    # -- what the org looks like at `now` --------------------------------------------------
    def balance(self, now: float) -> Decimal:
        """The contract's ledger identity: seed + settled charges - usage debits."""
        settled = sum((c.amount for c in self.charges if c.status(now) == "settled"), Decimal(0))
        return self.seed_balance + settled - sum(self.usage, Decimal(0))

    @property
    def limit(self) -> Decimal:
        return DEFAULT_CEILING if self.cap_limit is None else self.cap_limit

    def spent_this_month(self, now: float) -> Decimal:
        since = month_start(now)
        return sum((c.amount for c in self.charges
                    if c.created_at >= since and c.status(now) in ("pending", "settled")), Decimal(0))

    def headroom(self, now: float) -> Decimal:
        return max(Decimal(0), self.limit - self.spent_this_month(now))

    def seconds_until_slot(self, now: float) -> int:
        recent = [c.created_at for c in self.charges if c.source == "terminal" and c.created_at > now - RATE_WINDOW]
        if len(recent) < RATE_LIMIT:
            return 0
        return math.ceil(recent[-RATE_LIMIT] + RATE_WINDOW - now)

    def live_key(self, key: str, now: float) -> tuple[Decimal, str, float] | None:
        remembered = self.keys.get(key)
        return remembered if remembered and remembered[2] > now - KEY_TTL else None

    # -- what happens ------------------------------------------------------------------------
    def expected_charge(self, key: str, amount: Decimal, now: float) -> tuple[int, str | None]:
        """(status, error code or replayed chargeId) for an owner's well-formed charge, by gates 5-12."""
        if not self.billing_enabled:
            return 403, "cli_billing_disabled"
        remembered = self.live_key(key, now)
        if remembered is not None:
            return (202, remembered[1]) if remembered[0] == amount else (409, "idempotency_conflict")
        if self.card_last4 is None:
            return 403, "no_payment_method"
        if amount > self.headroom(now):
            return 403, "monthly_cap_exceeded"
        if self.seconds_until_slot(now):
            return 429, "rate_limited"
        return 202, None

    def accept(self, charge_id: str, amount: Decimal, now: float, source: str) -> Charge:
        """Record an accepted charge; its outcome is the next scripted one, else the card's."""
        if self.scripted:
            script = self.scripted.popleft()
            outcome = {"settle": "succeed", "fail": "fail", "pending": "pending"}[script.outcome]
            reason = script.reason
            after = self.settle_after if script.after_seconds is None else script.after_seconds
        else:
            reason = CARD_FAILURES.get(self.card_last4) if self.card_last4 else "processing_error"
            outcome, after = ("fail" if reason else "succeed"), self.settle_after
        charge = Charge(charge_id, amount, now, source, outcome, reason,
                        None if outcome == "pending" else now + after)
        self.charges.append(charge)
        return charge

    def auto_reload_due(self, now: float) -> Decimal | None:
        """After a usage debit: the amount auto-reload charges now, or None."""
        rule = self.auto_reload
        balance = self.balance(now)
        if not rule.enabled or self.card_last4 is None or balance >= rule.threshold:
            return None
        if any(c.source == "auto_reload" and c.status(now) == "pending" for c in self.charges):
            return None
        amount = min((rule.reload_to - balance).quantize(CENT, rounding=ROUND_UP), self.headroom(now))
        return amount if amount >= CENT else None

    def expected_auto_reload_update(self, rule: AutoReload) -> tuple[int, str | None]:
        """(status, error code) for `PATCH /api/billing/auto-top-up` with 2 dp, non-negative values."""
        if not self.billing_enabled:
            return 403, "cli_billing_disabled"
        if rule.enabled:
            for value in (rule.threshold, rule.reload_to):
                if not MIN_USD <= value <= MAX_USD:
                    return 400, "amount_out_of_bounds"
            if rule.reload_to <= rule.threshold:
                return 400, "validation_failed"
        return 200, None
