"""The request journal: what the portal answered, for tests that verify traffic.

Each entry is the method, path, status and portal-clock time; a chat completion's entry also
carries its `model`, `usage`, `costUsd`, `tags` and `streamOptions`.
"""

from __future__ import annotations

import json
from typing import Any

from mockportal.domain.clock import Clock, iso
from mockportal.errors import InvalidRequest
from mockportal.store import Store
from mockportal.store.control import JOURNAL_LIMIT as ENTRIES_KEPT  # the newest, oldest dropped first
from mockportal.wire import is_ascii_digits


def status_range(text: str) -> tuple[int, int]:
    """A status filter as typed: one status (`404`) or a class (`4xx`)."""
    text = text.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return int(text[0]) * 100, int(text[0]) * 100 + 99
    if len(text) == 3 and is_ascii_digits(text) and text[0] in "12345":
        return int(text), int(text)
    raise InvalidRequest("validation_failed", "A status filter is a status (404) or a class (4xx).")


class Journal:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def record(self, method: str, path: str, status: int, detail: dict[str, Any] | None = None, *,
               at: float | None = None) -> None:
        """One entry, at portal time `at` (None: now)."""
        with self._store.transaction():
            self._store.append_request(method, path, status, self._clock.now() if at is None else at,
                                       None if detail is None else json.dumps(detail, default=str))

    def entries(self, limit: int, *, path_part: str | None = None, status: str | None = None) -> list[dict]:
        """The last `limit` entries, oldest first; only those whose path contains `path_part`
        and whose status matches `status` (`404` or `4xx`), when given."""
        statuses = status_range(status) if status else None
        with self._store.transaction():
            rows = self._store.journal(limit, path_part=path_part, statuses=statuses)
        return [{"method": r["method"], "path": r["path"], "status": r["status"], "time": iso(r["at"]),
                 **(json.loads(r["detail"]) if r["detail"] else {})}
                for r in rows]

    def clear(self) -> None:
        with self._store.transaction():
            self._store.clear_journal()
