"""Idempotency keys: per org and per namespace (`charge`, `upgrade`), kept 24 hours, bound to
the fingerprint of the request that first used them (a charge's amount, an upgrade's tier).

Only responses a spend policy stores are remembered (an accepted charge, an upgrade's answer).
A request refused at a later gate (no card, cap, rate limit) stores nothing, so the client can
retry the same key once the cause is gone: Stripe's rule that only requests which began
executing are saved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from mockportal.domain.clock import Clock
from mockportal.errors import Conflict, InvalidRequest
from mockportal.store import Store
from mockportal.store.records import Remembered

KEY_TTL_SECONDS = 24 * 3600
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def require_key(header: str | None, what: str = "charge") -> str:
    """A key of 1-255 printable ASCII characters (gate 6 of a charge, step 2 of an upgrade)."""
    if header is None or not header.strip():
        raise InvalidRequest("idempotency_key_required", f"Send an Idempotency-Key header with every {what}.")
    if not _VALID_KEY.fullmatch(header):
        raise InvalidRequest("idempotency_key_required",
                             "Idempotency-Key must be 1-255 printable ASCII characters.")
    return header


class IdempotencyKeys:
    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def replay(self, org_id: str, namespace: str, key: str, fingerprint: str,
               describe: Callable[[str], str]) -> StoredResponse | None:
        """The original response for a reused key and the same request; 409 for a reused key
        with another request (`describe(fingerprint)` names what the key was used for)."""
        remembered = self._store.get_remembered(org_id, namespace, key,
                                                self._clock.now() - KEY_TTL_SECONDS)
        if remembered is None:
            return None
        if remembered.fingerprint != fingerprint:
            raise Conflict("idempotency_conflict",
                           f"Idempotency-Key was already used for {describe(remembered.fingerprint)}; "
                           "use a new key for a different request.")
        return StoredResponse(remembered.status, json.loads(remembered.body))

    def remember(self, org_id: str, namespace: str, key: str, fingerprint: str,
                 response: StoredResponse) -> None:
        now = self._clock.now()
        self._store.purge_idempotency(now - KEY_TTL_SECONDS)
        self._store.remember(org_id, namespace, key,
                             Remembered(fingerprint, response.status, json.dumps(response.body), now))
