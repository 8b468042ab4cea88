"""Orgs, users and roles: who may see billing details and who may spend, and which card pays.

The card ladder (CONTRACT.md end of section 7): a charge uses the card pinned on the
subscription (the saved card, when the org has a plan), else the org's default saved card,
else its auto-reload card; auto-reload uses its own card when one is set, else that same
saved card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from sqlite3 import Row

from mockportal.domain.tokens import Principal
from mockportal.errors import Forbidden, NotFound
from mockportal.store import Store

ROLES = ("OWNER", "ADMIN", "FINANCE_ADMIN", "SECURITY_ADMIN", "MEMBER")
BILLING_ROLES = frozenset({"OWNER", "ADMIN", "FINANCE_ADMIN"})
CHARGE_PRESETS = (Decimal("100"), Decimal("250"), Decimal("500"))
MIN_USD = Decimal("10")
MAX_USD = Decimal("10000")
DEFAULT_CEILING = Decimal("1000")
DEFAULT_SETTLE_AFTER_SECONDS = 3.0
PERSONAL, TEAM = "personal", "team"
KINDS = (PERSONAL, TEAM)


def can_change_plan(role: str) -> bool:
    return role in BILLING_ROLES


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str

    @classmethod
    def from_columns(cls, brand: str | None, last4: str | None) -> "Card | None":
        return None if brand is None or last4 is None else cls(brand, last4)


@dataclass(frozen=True)
class PaymentCard:
    """The card a charge would use, and the rung of the ladder that found it."""

    card: Card
    resolved_via: str  # subPin | customerDefault | autoRefill


@dataclass(frozen=True)
class AutoReload:
    enabled: bool
    threshold: Decimal
    reload_to: Decimal


@dataclass(frozen=True)
class Org:
    id: str
    slug: str
    name: str
    kind: str  # personal | team
    balance: Decimal  # P, the purchased balance; may be negative (debt)
    cli_billing_enabled: bool
    card: Card | None  # the saved card
    auto_reload_card: Card | None  # a card pinned to auto-reload, if any
    cap_limit: Decimal | None  # None: the default ceiling applies
    auto_reload: AutoReload
    settle_after: float

    @property
    def monthly_limit(self) -> Decimal:
        return DEFAULT_CEILING if self.cap_limit is None else self.cap_limit

    def payment_card(self, has_plan: bool) -> PaymentCard | None:
        """The card a terminal charge or an upgrade uses (`/state.card`)."""
        if self.card is not None:
            return PaymentCard(self.card, "subPin" if has_plan else "customerDefault")
        if self.auto_reload_card is not None:
            return PaymentCard(self.auto_reload_card, "autoRefill")
        return None

    @property
    def reload_card(self) -> Card | None:
        """The card auto-reload charges."""
        return self.auto_reload_card or self.card

    @property
    def reload_card_kind(self) -> str:
        """`distinct` if an auto-reload card is set, else `canonical` with a saved card, else `none`."""
        if self.auto_reload_card is not None:
            return "distinct"
        return "canonical" if self.card is not None else "none"

    @property
    def reload_payment_method_id(self) -> str:
        """A stable Stripe-like id for the auto-reload card (`pm_...`)."""
        card = self.auto_reload_card
        digest = hashlib.sha256(f"{self.id}:{card.brand}:{card.last4}".encode()).hexdigest()
        return "pm_" + digest[:24]

    @classmethod
    def from_row(cls, row: Row) -> "Org":
        return cls(id=row["id"], slug=row["slug"], name=row["name"], kind=row["kind"],
                   balance=Decimal(row["balance"]),
                   cli_billing_enabled=bool(row["cli_billing_enabled"]),
                   card=Card.from_columns(row["card_brand"], row["card_last4"]),
                   auto_reload_card=Card.from_columns(row["auto_card_brand"], row["auto_card_last4"]),
                   cap_limit=None if row["cap_limit"] is None else Decimal(row["cap_limit"]),
                   auto_reload=AutoReload(bool(row["auto_enabled"]), Decimal(row["auto_threshold"]),
                                          Decimal(row["auto_reload_to"])),
                   settle_after=row["settle_after"])


def load_org(store: Store, org_id: str) -> Org:
    row = store.get_org(org_id)
    if row is None:
        raise NotFound("unknown_org", f"No org {org_id!r}.")
    return Org.from_row(row)


def require_spender(principal: Principal, org: Org) -> None:
    """Gates 3-5 of a billing write: spending not revoked, billing role, org kill-switch on."""
    if principal.spending_revoked_by is not None:
        raise Forbidden("remote_spending_revoked",
                        "Terminal spending was revoked for this login; reconnect to spend again.",
                        actor=principal.spending_revoked_by, recovery="reconnect")
    if not can_change_plan(principal.role):
        raise Forbidden("role_required",
                        "Only an owner, admin or finance admin can change billing for this org.")
    if not org.cli_billing_enabled:
        raise Forbidden("cli_billing_disabled",
                        "Terminal billing is turned off for this org. Turn on "
                        "\"Allow terminal billing\" in the portal.",
                        code="remote_spending_disabled", recovery="enable_account_toggle")
