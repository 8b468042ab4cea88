"""Orgs, users and roles: who may see billing details and who may spend."""

from __future__ import annotations

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


def can_change_plan(role: str) -> bool:
    return role in BILLING_ROLES


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str


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
    balance: Decimal
    cli_billing_enabled: bool
    card: Card | None
    cap_limit: Decimal | None  # None: the default ceiling applies
    auto_reload: AutoReload
    settle_after: float

    @property
    def monthly_limit(self) -> Decimal:
        return DEFAULT_CEILING if self.cap_limit is None else self.cap_limit

    @classmethod
    def from_row(cls, row: Row) -> "Org":
        card = Card(row["card_brand"], row["card_last4"]) if row["card_last4"] else None
        return cls(id=row["id"], slug=row["slug"], name=row["name"], balance=Decimal(row["balance"]),
                   cli_billing_enabled=bool(row["cli_billing_enabled"]), card=card,
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
