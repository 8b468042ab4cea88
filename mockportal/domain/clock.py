"""The portal clock: the one source of time for expiry, rate windows and settlement.

Portal time is `base + offset`, where base is the wall clock or a frozen instant. Both live
in the database so every worker process reads the same time and a control-plane move is
seen everywhere at once. Tests freeze the clock and move it; nothing ever sleeps.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from mockportal.store import Store


class Clock:
    def __init__(self, store: Store):
        self._store = store

    def start(self, frozen_at: float | None) -> None:
        """Set the clock up once per database; a restarted server keeps its time."""
        with self._store.transaction():
            if self._store.get_meta("clock_offset") is None:
                self._store.set_meta("clock_frozen_at", "" if frozen_at is None else repr(frozen_at))
                self._store.set_meta("clock_offset", "0")

    def now(self) -> float:
        with self._store.transaction():
            frozen = self._store.get_meta("clock_frozen_at")
            offset = float(self._store.get_meta("clock_offset") or 0)
        base = float(frozen) if frozen else time.time()
        return base + offset

    def is_frozen(self) -> bool:
        with self._store.transaction():
            return bool(self._store.get_meta("clock_frozen_at"))

    def advance(self, seconds: float) -> float:
        with self._store.transaction():
            offset = float(self._store.get_meta("clock_offset") or 0) + seconds
            self._store.set_meta("clock_offset", repr(offset))
            return self.now()

    def rewind_offset(self) -> None:
        """Back to the configured start (a reset's fresh timeline)."""
        with self._store.transaction():
            self._store.set_meta("clock_offset", "0")


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def month_start(timestamp: float) -> float:
    """Start of the UTC calendar month holding `timestamp` (the monthly cap's period)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
