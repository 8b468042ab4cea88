"""Tables of who pays: orgs, their users, the tier catalogue and each org's plan."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from mockportal.store.records import Plan, Tier
from mockportal.wire import money


def _tier(row: sqlite3.Row) -> Tier:
    return Tier(id=row["id"], name=row["name"], order=row["tier_order"], price=Decimal(row["price"]),
                credits=Decimal(row["credits"]), enabled=bool(row["enabled"]))


def _plan(row: sqlite3.Row) -> Plan:
    return Plan(org_id=row["org_id"], tier_id=row["tier_id"], period_start=row["period_start"],
                grant=Decimal(row["grant_credits"]), rollover=Decimal(row["rollover"]),
                pending_tier_id=row["pending_tier_id"],
                cancel_at_period_end=bool(row["cancel_at_period_end"]))


class OrgTables:
    # -- orgs and users ---------------------------------------------------------------------
    def insert_org(self, row: dict[str, Any]) -> None:
        self._insert("orgs", row)

    def get_org(self, org_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM orgs WHERE id = ?", (org_id,))

    def org_with_slug(self, slug: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM orgs WHERE slug = ?", (slug,))

    def list_org_ids(self) -> list[str]:
        return [row["id"] for row in self._all("SELECT id FROM orgs ORDER BY id")]

    def update_org(self, org_id: str, **fields: Any) -> None:
        self._update("orgs", "id", org_id, fields)

    def insert_user(self, row: dict[str, Any]) -> None:
        self._insert("users", row)

    def get_user(self, email: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE email = ?", (email,))

    def users_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM users WHERE org_id = ? ORDER BY email", (org_id,))

    def update_user(self, email: str, **fields: Any) -> None:
        self._update("users", "email", email, fields)

    def list_users(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM users ORDER BY org_id, email")

    # -- the tier catalogue -----------------------------------------------------------------
    def insert_tier(self, tier: Tier) -> None:
        self._insert("tiers", {"id": tier.id, "name": tier.name, "tier_order": tier.order,
                               "price": money(tier.price), "credits": money(tier.credits),
                               "enabled": int(tier.enabled)})

    def tiers(self) -> list[Tier]:
        """The whole catalogue, by tier order then price (as the client lists it)."""
        rows = self._all("SELECT * FROM tiers")
        return sorted((_tier(row) for row in rows), key=lambda tier: (tier.order, tier.price, tier.id))

    def get_tier(self, tier_id: str) -> Tier | None:
        row = self._one("SELECT * FROM tiers WHERE id = ?", (tier_id,))
        return None if row is None else _tier(row)

    # -- plans ------------------------------------------------------------------------------
    def get_plan(self, org_id: str) -> Plan | None:
        row = self._one("SELECT * FROM subscriptions WHERE org_id = ?", (org_id,))
        return None if row is None else _plan(row)

    def put_plan(self, plan: Plan) -> None:
        self._run("INSERT OR REPLACE INTO subscriptions (org_id, tier_id, period_start, grant_credits, "
                  "rollover, pending_tier_id, cancel_at_period_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (plan.org_id, plan.tier_id, plan.period_start, money(plan.grant), money(plan.rollover),
                   plan.pending_tier_id, int(plan.cancel_at_period_end)))

    def delete_plan(self, org_id: str) -> None:
        self._run("DELETE FROM subscriptions WHERE org_id = ?", (org_id,))
