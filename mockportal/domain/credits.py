"""Credits and entitlement (CONTRACT.md section 9): an org's three buckets as the client sees them.

G (the plan's grant this cycle, signed), R (rollover) and P (the purchased balance, signed)
are read together at one instant, after the org has caught up on what is due, and everything
the client is told derives from that one snapshot: `/api/oauth/account`, the access token's
entitlement claims, and the `x-nous-credits-*` headers of an inference answer. So they agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from mockportal.domain.accounts import Account, Accounts
from mockportal.domain.clock import Clock
from mockportal.domain.ledger import Ledger
from mockportal.domain.orgs import load_org
from mockportal.domain.plans import Catalogue, period_end
from mockportal.domain.tokens import Principal
from mockportal.store import Store
from mockportal.store.records import Plan, Tier

ZERO = Decimal(0)
# The fake has no tool pool; paid access entitles the tool gateway anyway.
TOOL_ACCESS = {"enabled": False, "coverage": {"firecrawl": True, "fal": True, "fal-video": False,
                                              "openai-audio": True, "browser-use": True, "modal": True}}
PRODUCT_ID = "hermes-agent"


@dataclass(frozen=True)
class Credits:
    """An org's buckets at `at` (portal-clock seconds)."""

    org_id: str
    at: float
    grant: Decimal  # G
    rollover: Decimal  # R
    purchased: Decimal  # P
    plan: Plan | None
    tier: Tier | None

    @property
    def has_plan(self) -> bool:
        return self.plan is not None

    @property
    def paid_plan(self) -> bool:
        return self.tier is not None and self.tier.price > 0

    @property
    def subscription_remaining(self) -> Decimal:
        """G + R: `creditsRemaining`, `subscription.credits_remaining`."""
        return self.grant + self.rollover

    @property
    def total_usable(self) -> Decimal:
        return max(self.grant + self.rollover, ZERO) + max(self.purchased, ZERO)

    @property
    def allowed(self) -> bool:
        """Paid access: some usable credits are left."""
        return self.total_usable > 0

    @property
    def reason(self) -> str:
        return "usable_credits" if self.allowed else "no_usable_credits"

    @property
    def period_end(self) -> float | None:
        return None if self.plan is None else period_end(self.plan)


@dataclass(frozen=True)
class Entitlement:
    """What `/api/oauth/account` answers: the caller and their org's credits."""

    account: Account
    credits: Credits

    @property
    def privy_did(self) -> str:
        return "did:privy:" + hashlib.sha256(self.account.email.encode()).hexdigest()[:24]


class Entitlements:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger, catalogue: Catalogue, accounts: Accounts):
        self._store = store
        self._clock = clock
        self._ledger = ledger
        self._catalogue = catalogue
        self._accounts = accounts

    def credits(self, org_id: str) -> Credits:
        """The org's buckets now, after due charges settle and due cycles renew."""
        with self._store.transaction():
            self._ledger.catch_up(org_id)
            org = load_org(self._store, org_id)
            plan = self._store.get_plan(org_id)
            tier = None if plan is None else self._catalogue.tier(plan.tier_id)
            return Credits(org_id, self._clock.now(), plan.grant if plan else ZERO,
                           plan.rollover if plan else ZERO, org.balance, plan, tier)

    def of(self, principal: Principal) -> Entitlement:
        """Gate 1 only (`/api/oauth/account`)."""
        with self._store.transaction():
            return Entitlement(self._accounts.of(principal), self.credits(principal.org_id))

    def claims(self, org_id: str, client_id: str) -> dict:
        """The entitlement claims an access token carries: a snapshot taken when it is minted."""
        credits = self.credits(org_id)
        return {"paid_access": credits.allowed,
                "subscription_tier": credits.tier.order if credits.tier else 0,
                "tool_access": TOOL_ACCESS, "product_id": PRODUCT_ID, "nous_client": client_id}
