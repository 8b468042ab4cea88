"""A plain in-memory model of one org's billing, plan, credits and metered inference, written
from CONTRACT.md and the README's contract choices (not from the portal's code), for the
stateful properties to compare against.

Time is the portal clock in epoch seconds. Settlement is a function of time: a charge's
outcome and instant are fixed when it is accepted, so its status at any moment is known.
A plan renews at each cycle end the clock passes (`catch_up`), exactly as section 7 lists.
The three credit buckets are G (the plan's grant, signed), R (rollover) and P (the purchased
balance, signed): P is the charge ledger's balance plus what inference and cancellations moved.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_UP, Decimal
from fractions import Fraction

MIN_USD, MAX_USD = Decimal(10), Decimal(10000)
DEFAULT_CEILING = Decimal(1000)
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ZERO = Decimal(0)
RATE_LIMIT, RATE_WINDOW = 5, 3600
KEY_TTL = 24 * 3600
DAY = 24 * 3600
CYCLE_SECONDS = 30 * DAY
UPGRADE_ATTEMPTS_PER_DAY = 5
# Stripe's test cards: the failure a charge on them gets; any other card succeeds.
CARD_FAILURES = {"0002": "card_declined", "3184": "authentication_required",
                 "0069": "payment_method_expired", "0119": "processing_error"}
UPGRADED, ALREADY_ON_TIER, REQUIRES_ACTION, PAYMENT_FAILED = (
    "upgraded", "already_on_tier", "requires_action", "payment_failed")
REJECTED = "subscription_mutation_rejected"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_start(timestamp: float) -> float:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_start(timestamp: float) -> float:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def round_half_up(value: Fraction, quantum: Decimal) -> Decimal:
    """An exact rational rounded half up to a multiple of `quantum` (no decimal context involved)."""
    steps = value / Fraction(quantum)
    whole = math.floor(steps)
    if steps - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) * quantum


# -- the catalogues ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tier:
    id: str
    name: str
    order: int
    price: Decimal  # USD per month
    credits: Decimal  # credits per month
    enabled: bool

    @property
    def is_free(self) -> bool:
        return self.price == 0


@dataclass(frozen=True)
class PricedModel:
    id: str
    prompt: Decimal  # USD per token
    completion: Decimal

    @property
    def is_free(self) -> bool:
        return self.prompt == 0 and self.completion == 0


# -- metering (section 10): tokens without a tokenizer, cost rounded up to micros --------------
BYTES_PER_TOKEN = 4


def prompt_tokens(body_bytes: int) -> int:
    return math.ceil(body_bytes / BYTES_PER_TOKEN)


def reply_bytes(reply: dict) -> int:
    """The UTF-8 bytes a scripted reply is metered on: content + reasoning + each tool call's
    name and arguments text."""
    parts = [reply.get("content") or "", reply.get("reasoning") or ""]
    for call in reply.get("toolCalls", []):
        parts += [call["name"], call["arguments"]]
    return sum(len(part.encode("utf-8")) for part in parts)


def completion_tokens(reply: dict) -> int:
    return max(1, math.ceil(reply_bytes(reply) / BYTES_PER_TOKEN))


def cost(model: PricedModel, prompt: int, completion: int) -> Decimal:
    """prompt x price + completion x price, rounded up to whole micros."""
    return (prompt * model.prompt + completion * model.completion).quantize(MICRO, rounding=ROUND_CEILING)


@dataclass(frozen=True)
class Window:
    name: str
    limit: int
    seconds: int
    counts_tokens: bool


# Per org, fixed portal-clock windows: requests 60/min and 1000/h, tokens 1M/min and 10M/h.
WINDOWS = (Window("requests", 60, 60, False), Window("requests-1h", 1000, 3600, False),
           Window("tokens", 1_000_000, 60, True), Window("tokens-1h", 10_000_000, 3600, True))


@dataclass
class InferenceWindows:
    """What the org's requests have used of each rate window: every authenticated request
    counts, admitted or refused (with no tokens), except a 429 (its window is full already)."""

    counted: list[tuple[float, int]] = field(default_factory=list)  # (at, tokens)

    def used(self, window: Window, now: float) -> int:
        start = math.floor(now / window.seconds) * window.seconds
        return sum(tokens if window.counts_tokens else 1 for at, tokens in self.counted if at >= start)

    def reset(self, window: Window, now: float) -> int:
        start = math.floor(now / window.seconds) * window.seconds
        return max(1, math.ceil(start + window.seconds - now))

    def retry_after(self, now: float) -> int | None:
        """None if a request is admitted now, else the largest reset of the exhausted windows."""
        full = [self.reset(w, now) for w in WINDOWS if self.used(w, now) >= w.limit]
        return max(full) if full else None

    def headers(self, now: float) -> dict[str, int]:
        """The twelve `x-ratelimit-*` values, as integers."""
        values = {}
        for window in WINDOWS:
            values[f"x-ratelimit-limit-{window.name}"] = window.limit
            values[f"x-ratelimit-remaining-{window.name}"] = max(0, window.limit - self.used(window, now))
            values[f"x-ratelimit-reset-{window.name}"] = self.reset(window, now)
        return values


# -- credits (sections 7 and 9) -------------------------------------------------------------------
@dataclass(frozen=True)
class Buckets:
    grant: Decimal  # G
    rollover: Decimal  # R
    purchased: Decimal  # P

    @property
    def subscription(self) -> Decimal:
        """G + R: `creditsRemaining`, `subscription.credits_remaining`."""
        return self.grant + self.rollover

    @property
    def usable(self) -> Decimal:
        return max(self.subscription, ZERO) + max(self.purchased, ZERO)

    @property
    def allowed(self) -> bool:
        return self.usable > 0


@dataclass(frozen=True)
class Split:
    """What one inference debit took from each bucket, and the debt no bucket covered."""

    grant: Decimal
    rollover: Decimal
    purchased: Decimal
    debt: Decimal
    debt_on_grant: bool


def micros(amount: Decimal) -> int:
    return int((amount / MICRO).to_integral_value(rounding=ROUND_DOWN))


def usd(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Plan:
    tier: Tier
    period_start: float
    grant: Decimal
    rollover: Decimal
    pending: Tier | None = None
    cancel_at_period_end: bool = False

    @property
    def cycle_ends_at(self) -> float:
        return self.period_start + CYCLE_SECONDS

    def renewed(self) -> "Plan":
        """Steps 2-5 of a renewal: the pending tier becomes the tier, unused credits roll over
        up to the new tier's allowance, the grant refreshes repaying debt first."""
        tier = self.pending or self.tier
        rollover = min(max(self.grant, ZERO) + self.rollover, tier.credits)
        return Plan(tier, self.cycle_ends_at, tier.credits + min(self.grant, ZERO), rollover)


@dataclass(frozen=True)
class Quote:
    """An upgrade priced at one instant: cents charged now, credits added to G now."""

    cents: int
    credits: Decimal

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents) / 100


def quote(plan: Plan, target: Tier, now: float) -> Quote:
    """Proration with the anchor kept: f = whole seconds left / 30 days."""
    left = max(0, min(CYCLE_SECONDS, math.floor(plan.cycle_ends_at - now)))
    f = Fraction(left, CYCLE_SECONDS)
    cents = round_half_up(Fraction(target.price - plan.tier.price) * 100 * f, Decimal(1))
    credits = round_half_up(Fraction(target.credits - plan.tier.credits) * f, CENT)
    return Quote(int(cents), credits)


# -- charges (sections 3-5) ------------------------------------------------------------------------
@dataclass
class Charge:
    id: str
    amount: Decimal
    created_at: float
    source: str  # terminal | auto_reload | upgrade
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
    """A scripted outcome for the org's next card attempt (`afterSeconds` None: the org's default)."""

    outcome: str  # settle | fail | pending
    reason: str | None = None
    after_seconds: int | None = None


@dataclass
class AutoReload:
    enabled: bool
    threshold: Decimal
    reload_to: Decimal


@dataclass(frozen=True)
class Verdict:
    """What a request gets: a status and an error code, or (code None) the success to commit."""

    status: int
    code: str | None = None
    quote: Quote | None = None


@dataclass
class OrgModel:
    seed_balance: Decimal
    card_last4: str | None
    billing_enabled: bool
    cap_limit: Decimal | None
    auto_reload: AutoReload
    settle_after: int
    catalogue: dict[str, Tier] = field(default_factory=dict)
    plan: Plan | None = None
    stripe_available: bool = True
    charges: list[Charge] = field(default_factory=list)
    usage: list[Decimal] = field(default_factory=list)
    purchased_moves: list[Decimal] = field(default_factory=list)  # what inference took from P
    # What moved each bucket other than charges, usage and inference: renewals, upgrades,
    # cancellations, control-plane edits (conservation: bucket = seed + journal - debits).
    grant_journal: list[Decimal] = field(default_factory=list)
    rollover_journal: list[Decimal] = field(default_factory=list)
    purchased_journal: list[Decimal] = field(default_factory=list)
    scripted: deque[Outcome] = field(default_factory=deque)
    keys: dict[str, tuple[Decimal, str, float]] = field(default_factory=dict)  # key -> (amount, id, at)
    upgrade_keys: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (tier id, at)
    upgrade_attempts: list[float] = field(default_factory=list)
    windows: InferenceWindows = field(default_factory=InferenceWindows)

    # -- what the org looks like at `now` --------------------------------------------------
    def balance(self, now: float) -> Decimal:
        """P: seed + settled top-ups (an upgrade's payment does not credit P) - usage debits,
        plus what inference and cancellations moved."""
        settled = sum((c.amount for c in self.charges if c.source != "upgrade" and c.status(now) == "settled"),
                      ZERO)
        return (self.seed_balance + settled - sum(self.usage, ZERO) + sum(self.purchased_moves, ZERO)
                + sum(self.purchased_journal, ZERO))

    def buckets(self, now: float) -> Buckets:
        plan = self.plan
        return Buckets(plan.grant if plan else ZERO, plan.rollover if plan else ZERO, self.balance(now))

    @property
    def limit(self) -> Decimal:
        return DEFAULT_CEILING if self.cap_limit is None else self.cap_limit

    def spent_this_month(self, now: float) -> Decimal:
        since = month_start(now)
        return sum((c.amount for c in self.charges
                    if c.created_at >= since and c.status(now) in ("pending", "settled")), ZERO)

    def headroom(self, now: float) -> Decimal:
        return max(ZERO, self.limit - self.spent_this_month(now))

    def seconds_until_slot(self, now: float) -> int:
        recent = [c.created_at for c in self.charges if c.source == "terminal" and c.created_at > now - RATE_WINDOW]
        if len(recent) < RATE_LIMIT:
            return 0
        return math.ceil(recent[-RATE_LIMIT] + RATE_WINDOW - now)

    def live_key(self, key: str, now: float) -> tuple[Decimal, str, float] | None:
        remembered = self.keys.get(key)
        return remembered if remembered and remembered[2] > now - KEY_TTL else None

    def attempts_today(self, now: float) -> int:
        midnight = day_start(now)
        return sum(1 for at in self.upgrade_attempts if at >= midnight)

    # -- time ----------------------------------------------------------------------------------
    def catch_up(self, now: float) -> int:
        """Renew every cycle that has ended by `now`; a cancellation ends the plan, forfeiting
        G and R and moving debt (a negative G) onto P. The number of cycle ends passed."""
        ends = 0
        while self.plan is not None and self.plan.cycle_ends_at <= now:
            ends += 1
            if self.plan.cancel_at_period_end:
                self.purchased_journal.append(min(self.plan.grant, ZERO))
                self.set_plan(None)
                break
            self.set_plan(self.plan.renewed())
        return ends

    def set_plan(self, plan: Plan | None) -> None:
        """Replace the plan, journaling how G and R moved."""
        before = self.plan or Plan(None, 0, ZERO, ZERO)
        after = plan or Plan(None, 0, ZERO, ZERO)
        self.grant_journal.append(after.grant - before.grant)
        self.rollover_journal.append(after.rollover - before.rollover)
        self.plan = plan

    def set_purchased(self, balance: Decimal, now: float) -> None:
        """The control plane sets P."""
        self.purchased_journal.append(balance - self.balance(now))

    # -- charges -------------------------------------------------------------------------------
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

    def next_outcome(self) -> Outcome:
        """The next scripted outcome (used up), else what the saved card gives."""
        if self.scripted:
            return self.scripted.popleft()
        reason = CARD_FAILURES.get(self.card_last4) if self.card_last4 else "processing_error"
        return Outcome("fail", reason) if reason else Outcome("settle")

    def accept(self, charge_id: str, amount: Decimal, now: float, source: str) -> Charge:
        """Record an accepted charge; its outcome is the next scripted one, else the card's."""
        script = self.next_outcome()
        outcome = {"settle": "succeed", "fail": "fail", "pending": "pending"}[script.outcome]
        after = self.settle_after if script.after_seconds is None else script.after_seconds
        charge = Charge(charge_id, amount, now, source, outcome, script.reason,
                        None if outcome == "pending" else now + after)
        self.charges.append(charge)
        return charge

    def debit_purchased(self, amount: Decimal) -> None:
        self.purchased_moves.append(-amount)

    def auto_reload_due(self, now: float) -> Decimal | None:
        """After a debit of P: the amount auto-reload charges now, or None."""
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

    # -- the plan (section 7) ------------------------------------------------------------------------
    def _upgrade_refusal(self, amount: Decimal, now: float) -> Verdict | None:
        """Upgrade steps 6-8 (no card, the month's cap, the day's card attempts), or None."""
        if self.card_last4 is None:
            return Verdict(403, "no_payment_method")
        if amount > self.headroom(now):
            return Verdict(403, "monthly_cap_exceeded")
        if self.attempts_today(now) >= UPGRADE_ATTEMPTS_PER_DAY:
            return Verdict(429, "upgrade_cap_exceeded")
        return None

    def expected_preview(self, target_id: str, now: float) -> Verdict | dict:
        """A refusal, or the preview's fields: the effect is no_op, blocked, scheduled or
        charge_now, in that order; nothing changes."""
        if not self.billing_enabled:
            return Verdict(403, "cli_billing_disabled")
        target = self.catalogue.get(target_id)
        if self.plan is None or target is None:
            return Verdict(422, "preview_rejected")
        current = self.plan.tier
        answer = {"currentTierId": current.id, "currentTierName": current.name, "targetTierId": target.id,
                  "targetTierName": target.name, "monthlyCreditsDelta": target.credits - current.credits,
                  "amountDueNowCents": None, "effectiveAt": None, "blocked": False}
        if target.id == current.id:
            return {**answer, "effect": "no_op"}
        if target.is_free or not target.enabled:
            return {**answer, "effect": "blocked", "blocked": True}
        if target.price <= current.price:
            return {**answer, "effect": "scheduled", "effectiveAt": iso(self.plan.cycle_ends_at)}
        offer = quote(self.plan, target, now)
        if self._upgrade_refusal(offer.amount, now):
            return {**answer, "effect": "blocked", "blocked": True}
        return {**answer, "effect": "charge_now",
                "amountDueNowCents": offer.cents if self.stripe_available else None}

    def expected_upgrade(self, key: str, target_id: str, now: float) -> Verdict:
        """Upgrade steps 1-9 for the owner with a key and a well-formed body: a refusal, a replay
        (code `replay`), `already_on_tier` (code `already_on_tier`), or a card attempt (code None)."""
        if not self.billing_enabled:
            return Verdict(403, "cli_billing_disabled")
        remembered = self.upgrade_keys.get(key)
        if remembered is not None and remembered[1] > now - KEY_TTL:
            return Verdict(200, "replay") if remembered[0] == target_id else Verdict(409, "idempotency_conflict")
        target = self.catalogue.get(target_id)
        if self.plan is None or target is None:
            return Verdict(422, REJECTED)
        if target.id == self.plan.tier.id:
            return Verdict(200, ALREADY_ON_TIER)
        if target.is_free or not target.enabled or target.price <= self.plan.tier.price:
            return Verdict(422, REJECTED)
        offer = quote(self.plan, target, now)
        refusal = self._upgrade_refusal(offer.amount, now)
        if refusal:
            return refusal
        if not self.stripe_available:
            return Verdict(503, "stripe_unavailable")
        return Verdict(200, None, offer)

    def attempt_upgrade(self, key: str, target_id: str, offer: Quote, now: float) -> tuple[str, str | None]:
        """Step 10, after `expected_upgrade` said a card attempt is made: (status, reason). A
        paid upgrade changes the tier at once, adds the prorated credits to G and clears any
        pending change; the caller records its settled charge."""
        script = self.next_outcome()
        if script.outcome == "settle":
            status, reason = UPGRADED, None
        elif script.outcome == "pending":  # a payment that waits for the customer [README choice]
            status, reason = REQUIRES_ACTION, "authentication_required"
        else:
            status = REQUIRES_ACTION if script.reason == "authentication_required" else PAYMENT_FAILED
            reason = script.reason
        self.upgrade_attempts.append(now)
        self.remember_upgrade(key, target_id, now)
        if status == UPGRADED:
            self.set_plan(replace(self.plan, tier=self.catalogue[target_id], grant=self.plan.grant + offer.credits,
                                  pending=None, cancel_at_period_end=False))
        return status, reason

    def remember_upgrade(self, key: str, target_id: str, now: float) -> None:
        self.upgrade_keys[key] = (target_id, now)

    def record_upgrade_payment(self, charge_id: str, offer: Quote, now: float) -> None:
        self.charges.append(Charge(charge_id, offer.amount, now, "upgrade", "succeed", None, now))

    def expected_schedule(self, target_id: str | None) -> Verdict:
        """PUT pending-change: a tier change (`target_id`) or a cancellation (None)."""
        if not self.billing_enabled:
            return Verdict(403, "cli_billing_disabled")
        if self.plan is None:
            return Verdict(422, REJECTED)
        if target_id is not None:
            target = self.catalogue.get(target_id)
            if (target is None or target.id == self.plan.tier.id or target.is_free or not target.enabled
                    or target.price > self.plan.tier.price):
                return Verdict(422, REJECTED)
        if not self.stripe_available:
            return Verdict(503, "stripe_unavailable")
        return Verdict(200)

    def schedule(self, target_id: str | None) -> None:
        """A new pending change replaces the old one."""
        if target_id is None:
            self.plan = replace(self.plan, pending=None, cancel_at_period_end=True)
        else:
            self.plan = replace(self.plan, pending=self.catalogue[target_id], cancel_at_period_end=False)

    def expected_unschedule(self) -> Verdict:
        """DELETE pending-change."""
        if not self.billing_enabled:
            return Verdict(403, "cli_billing_disabled")
        if self.plan is None:
            return Verdict(422, REJECTED)
        if not self.stripe_available:
            return Verdict(503, "stripe_unavailable")
        return Verdict(200)

    def unschedule(self) -> None:
        self.plan = replace(self.plan, pending=None, cancel_at_period_end=False)

    # -- inference (section 10) ----------------------------------------------------------------------
    def expected_admission(self, model: PricedModel, now: float) -> Verdict:
        """Gates 5-6 of a well-formed chat completion for a known model."""
        wait = self.windows.retry_after(now)
        if wait is not None:
            return Verdict(429, "rate_limited")
        if not model.is_free and not self.buckets(now).allowed:
            return Verdict(402, "no_usable_credits")
        return Verdict(200)

    def bill(self, amount: Decimal, now: float) -> Split:
        """Debit an inference cost: G's positive part, then R, then P's positive part; the rest
        is debt, on G with a paid plan, else on P."""
        buckets = self.buckets(now)
        from_grant = min(amount, max(buckets.grant, ZERO))
        from_rollover = min(amount - from_grant, buckets.rollover)
        from_purchased = min(amount - from_grant - from_rollover, max(buckets.purchased, ZERO))
        debt = amount - from_grant - from_rollover - from_purchased
        on_grant = self.plan is not None and self.plan.tier.price > 0
        if self.plan is not None:
            self.plan = replace(self.plan, grant=self.plan.grant - from_grant - (debt if on_grant else ZERO),
                                rollover=self.plan.rollover - from_rollover)
        on_purchased = from_purchased + (ZERO if on_grant else debt)
        if on_purchased:
            self.debit_purchased(on_purchased)
        return Split(from_grant, from_rollover, from_purchased, debt, on_grant)

    def account(self, now: float) -> dict:
        """`/api/oauth/account`'s subscription and paid_service_access, money as Decimals."""
        b, plan = self.buckets(now), self.plan
        tier = plan.tier if plan else None
        return {
            "subscription": None if plan is None else {
                "plan": tier.name, "tier": tier.order, "monthly_charge": tier.price,
                "monthly_credits": tier.credits, "current_period_end": iso(plan.cycle_ends_at),
                "credits_remaining": b.subscription, "rollover_credits": b.rollover},
            "purchased_credits_remaining": b.purchased,
            "paid_service_access": {
                "allowed": b.allowed, "paid_access": b.allowed,
                "reason": "usable_credits" if b.allowed else "no_usable_credits",
                "effective_at_ms": int(now * 1000),
                "has_active_subscription": plan is not None,
                "active_subscription_is_paid": tier is not None and tier.price > 0,
                "subscription_tier": tier.order if tier else 0,
                "subscription_monthly_charge": tier.price if tier else ZERO,
                "subscription_credits_remaining": b.subscription if plan else ZERO,
                "purchased_credits_remaining": b.purchased,
                "total_usable_credits": b.usable}}

    def credits_headers(self, now: float) -> dict:
        """The `x-nous-credits-*` values (version 1) a completion admitted now carries, parsed."""
        b, plan = self.buckets(now), self.plan
        subscription = b.subscription + min(b.purchased, ZERO)
        paid_plan = plan is not None and plan.tier.price > 0
        return {"version": 1, "remaining_micros": micros(b.usable), "remaining_usd": usd(b.usable),
                "subscription_micros": micros(subscription), "subscription_usd": usd(subscription),
                "rollover_micros": micros(b.rollover), "purchased_micros": micros(max(b.purchased, ZERO)),
                "purchased_usd": usd(max(b.purchased, ZERO)), "as_of_ms": int(now * 1000),
                "subscription_limit_micros": micros(plan.tier.credits) if paid_plan else None,
                "subscription_limit_usd": usd(plan.tier.credits) if paid_plan else None,
                "denominator_kind": "subscription_cap" if paid_plan else "none",
                "paid_access": b.allowed, "disabled_reason": None if b.allowed else "out_of_credits"}
