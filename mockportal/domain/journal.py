"""The request journal: what the portal answered, for tests that verify traffic.

Each entry is the method, path, status and portal-clock time; a chat completion's entry also
carries its `model`, `usage`, `costUsd`, `tags` and `streamOptions`.
"""

from __future__ import annotations

import json
from typing import Any

from mockportal.domain.clock import Clock, iso
from mockportal.store import Store
from mockportal.store.control import JOURNAL_LIMIT as ENTRIES_KEPT  # the newest, oldest dropped first


class Journal:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def record(self, method: str, path: str, status: int, detail: dict[str, Any] | None = None) -> None:
        with self._store.transaction():
            self._store.append_request(method, path, status, self._clock.now(),
                                       None if detail is None else json.dumps(detail, default=str))

    def entries(self, limit: int) -> list[dict]:
        with self._store.transaction():
            rows = self._store.journal(limit)
        return [{"method": r["method"], "path": r["path"], "status": r["status"], "time": iso(r["at"]),
                 **(json.loads(r["detail"]) if r["detail"] else {})}
                for r in rows]

    def clear(self) -> None:
        with self._store.transaction():
            self._store.clear_journal()
