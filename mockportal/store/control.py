"""Tables of the control plane's own: injected faults and the request journal."""

from __future__ import annotations

import sqlite3
from typing import Any

JOURNAL_LIMIT = 10_000


class ControlTables:
    # -- faults -----------------------------------------------------------------------------
    def insert_fault(self, row: dict[str, Any]) -> None:
        self._insert("faults", row)

    def active_faults(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM faults WHERE remaining > 0 ORDER BY id")

    def consume_fault(self, fault_id: int) -> None:
        """One use of a fault; a used-up one is forgotten, so the next lookup reads only live ones."""
        self._run("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault_id,))
        self._run("DELETE FROM faults WHERE id = ? AND remaining <= 0", (fault_id,))

    def clear_faults(self) -> None:
        self._run("DELETE FROM faults")

    # -- request journal --------------------------------------------------------------------
    def append_request(self, method: str, path: str, status: int, at: float, detail: str | None = None) -> None:
        cursor = self._run("INSERT INTO request_journal (method, path, status, at, detail) VALUES (?, ?, ?, ?, ?)",
                           (method, path, status, at, detail))
        if cursor.lastrowid and cursor.lastrowid % 1000 == 0:
            self._run("DELETE FROM request_journal WHERE id <= ?", (cursor.lastrowid - JOURNAL_LIMIT,))

    def journal(self, limit: int, *, path_part: str | None = None,
                statuses: tuple[int, int] | None = None) -> list[sqlite3.Row]:
        """The last `limit` entries, oldest first; of those whose path contains `path_part` and
        whose status is within `statuses` (both ends included), when given."""
        where, params = [], []
        if path_part:
            where.append("instr(path, ?) > 0")
            params.append(path_part)
        if statuses is not None:
            where.append("status BETWEEN ? AND ?")
            params.extend(statuses)
        condition = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self._all(f"SELECT * FROM request_journal {condition}ORDER BY id DESC LIMIT ?",
                         (*params, limit))
        return list(reversed(rows))

    def clear_journal(self) -> None:
        self._run("DELETE FROM request_journal")
