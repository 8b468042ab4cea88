"""All SQL lives here: the engine (connection, locks, scopes, migrations) and, apart from it,
the table code, one module per area. The domain calls `Store` methods inside
`Store.transaction()` and gets plain values back (`records.py`)."""

from __future__ import annotations

from mockportal.store.auth import AuthTables
from mockportal.store.control import ControlTables
from mockportal.store.engine import Engine, OutsideScope, WriteNeeded
from mockportal.store.inference import InferenceTables
from mockportal.store.money import MoneyTables
from mockportal.store.orgs import OrgTables

__all__ = ["Store", "OutsideScope", "WriteNeeded"]

# Tables a reset empties; `meta` (signing secret, clock) survives. Children before parents.
STATE_TABLES = ("request_journal", "faults", "scripted_outcomes", "scripted_replies", "usage_debits",
                "idempotency", "upgrade_attempts", "charges", "completions", "device_codes",
                "refresh_tokens", "access_tokens", "grants", "subscriptions", "users", "orgs", "tiers",
                "models")


class Store(OrgTables, AuthTables, MoneyTables, InferenceTables, ControlTables, Engine):
    """The one object the domain talks to."""

    def clear_state(self) -> None:
        for table in STATE_TABLES:
            self._run(f"DELETE FROM {table}")
