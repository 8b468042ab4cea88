"""Fault injection: the next N requests matching a method and path pattern fail or stall.

Lets tests show that a client survives a 503 with Retry-After, a 429 while polling, or a slow
answer, without the portal's real rules being touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from mockportal.store import Store

MAX_DELAY_MS = 30_000


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: only delay, then answer normally
    error: str
    message: str
    retry_after: int | None
    delay_ms: int


@dataclass(frozen=True)
class ArmedFault:
    """A fault still waiting for its next `remaining` matching requests."""

    method: str
    path: str
    remaining: int
    fault: Fault


def _fault(row) -> Fault:
    return Fault(row["status"] or None, row["error"], row["message"], row["retry_after"], row["delay_ms"])


class Faults:
    def __init__(self, store: Store):
        self._store = store

    def add(self, *, method: str, path: str, count: int, status: int | None, error: str,
            message: str, retry_after: int | None, delay_ms: int) -> None:
        with self._store.transaction():
            self._store.insert_fault({"method": method.upper(), "path": path, "remaining": count,
                                      "status": status or 0, "error": error, "message": message,
                                      "retry_after": retry_after, "delay_ms": delay_ms})

    def take(self, method: str, path: str) -> Fault | None:
        """Consume the oldest fault matching this request, if any (`*` in the path is a wildcard)."""
        with self._store.transaction():
            for row in self._store.active_faults():
                if row["method"] in ("*", method.upper()) and fnmatchcase(path, row["path"]):
                    self._store.consume_fault(row["id"])
                    return _fault(row)
        return None

    def armed(self) -> list[ArmedFault]:
        """The faults that will still fire, oldest first (the order they are matched in)."""
        with self._store.transaction():
            return [ArmedFault(row["method"], row["path"], row["remaining"], _fault(row))
                    for row in self._store.active_faults()]

    def clear(self) -> None:
        with self._store.transaction():
            self._store.clear_faults()
