"""What the store hands the domain: plain values, never `sqlite3.Row` column names.

Money columns are canonical decimal TEXT and come back as `Decimal`; times are portal-clock
epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Tier:
    """One entry of the plan catalogue (CONTRACT.md section 7)."""

    id: str
    name: str
    order: int
    price: Decimal  # USD per month
    credits: Decimal  # USD of credits per month
    enabled: bool

    @property
    def is_free(self) -> bool:
        return self.price == 0


@dataclass(frozen=True)
class Plan:
    """An org's subscription: its tier, the cycle it is in, and its two credit buckets."""

    org_id: str
    tier_id: str
    period_start: float
    grant: Decimal  # G: the subscription grant left this cycle; negative is debt
    rollover: Decimal  # R: credits rolled over from earlier cycles, never negative
    pending_tier_id: str | None
    cancel_at_period_end: bool


@dataclass(frozen=True)
class Charge:
    id: str
    org_id: str
    grant_id: str | None
    source: str  # terminal | auto_reload | upgrade
    amount: Decimal
    created_at: float
    status: str  # pending | settled | failed
    outcome: str  # settle | fail | pending (forever)
    reason: str | None
    settle_at: float | None
    settled_at: float | None


@dataclass(frozen=True)
class Remembered:
    """A response kept under an idempotency key, with the fingerprint of the request it answered."""

    fingerprint: str
    status: int
    body: str  # JSON text
    created_at: float


@dataclass(frozen=True)
class UpgradeAttempt:
    id: int
    org_id: str
    grant_id: str | None
    target_tier_id: str
    status: str  # upgraded | requires_action | payment_failed
    reason: str | None
    amount_cents: int
    at: float


@dataclass(frozen=True)
class Model:
    """One model of the inference catalogue (CONTRACT.md section 10); prices are USD per token."""

    id: str
    name: str
    context_length: int
    prompt_price: Decimal
    completion_price: Decimal
    cache_read_price: Decimal | None
    cache_write_price: Decimal | None
    created: int

    @property
    def is_free(self) -> bool:
        return self.prompt_price == 0 and self.completion_price == 0


@dataclass(frozen=True)
class Completion:
    """One metered chat completion: its usage and cost, and, once billed, what each bucket paid."""

    id: str
    org_id: str
    grant_id: str | None
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int
    at: float
    outcome: str = "admitted"  # admitted | refused (no usable credits: counted, never billed)
    billed_at: float | None = None
    from_grant: Decimal = Decimal(0)
    from_rollover: Decimal = Decimal(0)
    from_purchased: Decimal = Decimal(0)
    debt: Decimal = Decimal(0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
