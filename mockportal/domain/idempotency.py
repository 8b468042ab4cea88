"""Idempotency keys: per org, kept 24 hours, bound to the amount of their first accepted use.

Only accepted charges are remembered. A request refused at a later gate (no card, cap,
rate limit) stores nothing, so the client can retry the same key once the cause is gone;
this is Stripe's rule that only requests which began executing are saved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mockportal.domain.clock import Clock
from mockportal.errors import Conflict, InvalidRequest
from mockportal.store import Store
from mockportal.wire import money

KEY_TTL_SECONDS = 24 * 3600
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def require_key(header: str | None) -> str:
    """Gate 6: a key of 1-255 printable ASCII characters."""
    if header is None or not header.strip():
        raise InvalidRequest("idempotency_key_required", "Send an Idempotency-Key header with every charge.")
    if not _VALID_KEY.fullmatch(header):
        raise InvalidRequest("idempotency_key_required",
                             "Idempotency-Key must be 1-255 printable ASCII characters.")
    return header


class IdempotencyKeys:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def replay(self, org_id: str, key: str, amount: Decimal) -> StoredResponse | None:
        """The original response for a reused key and amount; 409 for a reused key with another amount."""
        row = self._store.get_idempotency(org_id, key, self._clock.now() - KEY_TTL_SECONDS)
        if row is None:
            return None
        if Decimal(row["amount"]) != amount:
            raise Conflict("idempotency_conflict",
                           f"Idempotency-Key was already used for a charge of {row['amount']} USD; "
                           "use a new key for a different amount.")
        return StoredResponse(row["status"], json.loads(row["body"]))

    def remember(self, org_id: str, key: str, amount: Decimal, response: StoredResponse) -> None:
        now = self._clock.now()
        self._store.purge_idempotency(now - KEY_TTL_SECONDS)
        self._store.put_idempotency({"org_id": org_id, "key": key, "amount": money(amount),
                                     "status": response.status, "body": json.dumps(response.body),
                                     "created_at": now})
