"""Tables of money moving: charges, idempotency keys, usage debits, scripted outcomes and
upgrade attempts. Money is canonical decimal TEXT, summed in Python, never by SQL (which
would turn it into floats)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from mockportal.store.records import Charge, Remembered, UpgradeAttempt
from mockportal.wire import money


def _charge(row: sqlite3.Row) -> Charge:
    return Charge(id=row["id"], org_id=row["org_id"], grant_id=row["grant_id"], source=row["source"],
                  amount=Decimal(row["amount"]), created_at=row["created_at"], status=row["status"],
                  outcome=row["outcome"], reason=row["reason"], settle_at=row["settle_at"],
                  settled_at=row["settled_at"])


class MoneyTables:
    # -- charges ----------------------------------------------------------------------------
    def insert_charge(self, charge: Charge) -> None:
        self._insert("charges", {
            "id": charge.id, "org_id": charge.org_id, "grant_id": charge.grant_id,
            "source": charge.source, "amount": money(charge.amount), "created_at": charge.created_at,
            "status": charge.status, "outcome": charge.outcome, "reason": charge.reason,
            "settle_at": charge.settle_at, "settled_at": charge.settled_at})

    def get_charge(self, org_id: str, charge_id: str) -> Charge | None:
        row = self._one("SELECT * FROM charges WHERE id = ? AND org_id = ?", (charge_id, org_id))
        return None if row is None else _charge(row)

    def charges_of_org(self, org_id: str) -> list[Charge]:
        rows = self._all("SELECT * FROM charges WHERE org_id = ? ORDER BY created_at, id", (org_id,))
        return [_charge(row) for row in rows]

    def due_charges(self, org_id: str, now: float) -> list[Charge]:
        rows = self._all("SELECT * FROM charges WHERE org_id = ? AND status = 'pending' "
                         "AND settle_at IS NOT NULL AND settle_at <= ? ORDER BY settle_at, id",
                         (org_id, now))
        return [_charge(row) for row in rows]

    def finish_charge(self, charge_id: str, status: str, settled_at: float) -> None:
        self._run("UPDATE charges SET status = ?, settled_at = ? WHERE id = ?", (status, settled_at, charge_id))

    def counted_charge_amounts(self, org_id: str, since: float) -> list[Decimal]:
        """Amounts of pending and settled charges created at or after `since` (cap spend)."""
        rows = self._all("SELECT amount FROM charges WHERE org_id = ? AND created_at >= ? "
                         "AND status IN ('pending', 'settled')", (org_id, since))
        return [Decimal(row["amount"]) for row in rows]

    def charge_times(self, source: str, *, after: float, org_id: str | None = None,
                     grant_id: str | None = None) -> list[float]:
        """Acceptance times of `source` charges of an org (or a grant) strictly after `after`,
        oldest first."""
        column, value = ("org_id", org_id) if org_id is not None else ("grant_id", grant_id)
        rows = self._all(f"SELECT created_at FROM charges WHERE {column} = ? AND source = ? "
                         "AND created_at > ? ORDER BY created_at", (value, source, after))
        return [row["created_at"] for row in rows]

    def has_pending_charge(self, org_id: str, source: str) -> bool:
        return self._one("SELECT 1 FROM charges WHERE org_id = ? AND source = ? AND status = 'pending'",
                         (org_id, source)) is not None

    # -- idempotency ------------------------------------------------------------------------
    def get_remembered(self, org_id: str, namespace: str, key: str, since: float) -> Remembered | None:
        row = self._one("SELECT * FROM idempotency WHERE org_id = ? AND namespace = ? AND key = ? "
                        "AND created_at > ?", (org_id, namespace, key, since))
        return None if row is None else Remembered(row["fingerprint"], row["status"], row["body"],
                                                    row["created_at"])

    def remember(self, org_id: str, namespace: str, key: str, remembered: Remembered) -> None:
        self._run("INSERT OR REPLACE INTO idempotency (org_id, namespace, key, fingerprint, status, "
                  "body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (org_id, namespace, key, remembered.fingerprint, remembered.status, remembered.body,
                   remembered.created_at))

    def purge_idempotency(self, before: float) -> None:
        self._run("DELETE FROM idempotency WHERE created_at <= ?", (before,))

    # -- usage ------------------------------------------------------------------------------
    def insert_usage(self, org_id: str, amount: Decimal, at: float) -> None:
        self._insert("usage_debits", {"org_id": org_id, "amount": money(amount), "at": at})

    def usage_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM usage_debits WHERE org_id = ? ORDER BY id", (org_id,))

    # -- scripted outcomes ------------------------------------------------------------------
    def push_outcome(self, org_id: str, outcome: str, reason: str | None,
                     after_seconds: float | None) -> None:
        self._insert("scripted_outcomes", {"org_id": org_id, "outcome": outcome, "reason": reason,
                                           "after_seconds": after_seconds})

    def pop_outcome(self, org_id: str) -> sqlite3.Row | None:
        row = self._one("SELECT * FROM scripted_outcomes WHERE org_id = ? ORDER BY id LIMIT 1",
                        (org_id,))
        if row is not None:
            self._run("DELETE FROM scripted_outcomes WHERE id = ?", (row["id"],))
        return row

    def outcomes_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM scripted_outcomes WHERE org_id = ? ORDER BY id", (org_id,))

    # -- upgrade attempts -------------------------------------------------------------------
    def insert_upgrade_attempt(self, row: dict[str, Any]) -> None:
        self._insert("upgrade_attempts", row)

    def upgrade_attempts_since(self, org_id: str, since: float) -> int:
        return self._one("SELECT count(*) AS n FROM upgrade_attempts WHERE org_id = ? AND at >= ?",
                         (org_id, since))["n"]

    def upgrade_attempts_of_org(self, org_id: str) -> list[UpgradeAttempt]:
        rows = self._all("SELECT * FROM upgrade_attempts WHERE org_id = ? ORDER BY id", (org_id,))
        return [UpgradeAttempt(id=r["id"], org_id=r["org_id"], grant_id=r["grant_id"],
                               target_tier_id=r["target_tier_id"], status=r["status"], reason=r["reason"],
                               amount_cents=r["amount_cents"], at=r["at"]) for r in rows]
