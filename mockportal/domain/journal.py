"""The request journal: what the portal answered, for tests that verify traffic."""

from __future__ import annotations

from mockportal.domain.clock import Clock, iso
from mockportal.store import Store


class Journal:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def record(self, method: str, path: str, status: int) -> None:
        with self._store.transaction():
            self._store.append_request(method, path, status, self._clock.now())

    def entries(self, limit: int) -> list[dict]:
        with self._store.transaction():
            rows = self._store.journal(limit)
        return [{"method": r["method"], "path": r["path"], "status": r["status"], "time": iso(r["at"])}
                for r in rows]

    def clear(self) -> None:
        with self._store.transaction():
            self._store.clear_journal()
