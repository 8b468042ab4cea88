"""The portal clock: the one source of time for expiry, rate windows and settlement.

Portal time is `base + offset`, where base is the wall clock or a frozen instant. Both live
in the database so every worker process reads the same time and a control-plane move is
seen everywhere at once. Tests freeze the clock and move it; nothing ever sleeps.

Portal time stays between EARLIEST and LATEST (1970 and the year 9000): every instant the
portal prints is now plus at most a few decades (a token's life, a settlement delay, a plan's
cycle), and a calendar stops at 9999-12-31, so each one stays printable.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from mockportal.errors import InvalidRequest
from mockportal.store import Store

EARLIEST = 0.0  # 1970-01-01T00:00:00Z
LATEST = 221845392000.0  # 9000-01-01T00:00:00Z


class Clock:
    def __init__(self, store: Store):
        self._store = store

    def start(self, frozen_at: float | None) -> None:
        """Set the clock up once per database; a restarted server keeps its time."""
        if frozen_at is not None:
            require_bounded(frozen_at)
        with self._store.transaction():
            if self._store.get_meta("clock_offset") is None:
                self._store.set_meta("clock_frozen_at", "" if frozen_at is None else repr(frozen_at))
                self._store.set_meta("clock_offset", "0")

    def now(self) -> float:
        frozen, offset = self._store.read_meta("clock_frozen_at", "clock_offset")
        base = float(frozen) if frozen else time.time()
        return base + float(offset or 0)

    def is_frozen(self) -> bool:
        with self._store.transaction():
            return bool(self._store.get_meta("clock_frozen_at"))

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds`, never past LATEST (400, and the clock stays put)."""
        with self._store.transaction():
            if self.now() + seconds > LATEST:
                raise InvalidRequest("validation_failed", f"The portal clock stops at {iso(LATEST)}; it is "
                                     f"{iso(self.now())}. Reset to start its timeline over.")
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
    """An ISO-8601 instant within the clock's bounds (no zone: UTC); ValueError otherwise."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return require_bounded(moment.timestamp())


def require_bounded(timestamp: float) -> float:
    """`timestamp`, if portal time can stand there; ValueError, naming the bounds, if not."""
    if not EARLIEST <= timestamp <= LATEST:
        raise ValueError(f"Portal time is between {iso(EARLIEST)} and {iso(LATEST)}.")
    return timestamp


def month_start(timestamp: float) -> float:
    """Start of the UTC calendar month holding `timestamp` (the monthly cap's period)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
