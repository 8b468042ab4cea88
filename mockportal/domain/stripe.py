"""The control plane's Stripe switch: while it is off, every route that would call Stripe
synchronously (plan changes, upgrades) answers 503 `stripe_unavailable` before touching money.
Kept in the database, so every worker sees one switch; a reset turns it back on."""

from __future__ import annotations

from dataclasses import dataclass

from mockportal.errors import RateLimited
from mockportal.store import Store

DEFAULT_RETRY_AFTER = 30


@dataclass(frozen=True)
class StripeStatus:
    available: bool
    retry_after: int


class StripeSwitch:
    def __init__(self, store: Store):
        self._store = store

    def status(self) -> StripeStatus:
        with self._store.transaction():
            off = self._store.get_meta("stripe_off_retry_after")
        return StripeStatus(True, DEFAULT_RETRY_AFTER) if off is None else StripeStatus(False, int(off))

    def set(self, available: bool, retry_after: int = DEFAULT_RETRY_AFTER) -> StripeStatus:
        with self._store.transaction():
            if available:
                self._store.delete_meta("stripe_off_retry_after")
            else:
                self._store.set_meta("stripe_off_retry_after", str(retry_after))
        return self.status()

    def require(self) -> None:
        """Refuse with 503 `stripe_unavailable` (and `Retry-After`) while the switch is off."""
        status = self.status()
        if not status.available:
            raise RateLimited("stripe_unavailable",
                              "The payment processor is unavailable; nothing was charged. Try again shortly.",
                              retry_after=status.retry_after, status=503, portalUrl="/billing")
