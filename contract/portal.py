"""The portal under test, as a few verbs: public API calls (always checked against the OpenAPI
document) beside the harness's control-plane verbs (`mockportal.testing.Control`: `/_mock`,
mockportal's own; each asserted to succeed).

Request bodies are built as text by the caller, so a money amount is the exact JSON number
literal the property generated and no float is ever involved.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cached_property
from typing import Any, Iterator

import requests

from contract import spec
from contract.world import BILLING_SCOPE, OWNER
from mockportal.testing import Control, HttpTransport

TIMEOUT_SECONDS = 30
TOKEN_SECONDS = 10**8  # about three years: the longest the control plane mints


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ContractPortal(Control):
    def __init__(self, base_url: str, control_token: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        super().__init__(HttpTransport(self.base_url, self.http, TIMEOUT_SECONDS), control_token)

    # -- the public API ------------------------------------------------------------------
    def send(self, method: str, path: str, *, headers: dict[str, str] | None = None,
             body: bytes | str | Iterator[bytes] | None = None,
             content_type: str | None = "application/json") -> requests.Response:
        """Any request, unchecked, its path sent as given (already percent-encoded). A body
        iterator is sent chunked, without Content-Length."""
        headers = dict(headers or {})
        if content_type is not None and body is not None:
            headers.setdefault("Content-Type", content_type)
        data = body.encode() if isinstance(body, str) else body
        prepared = self.http.prepare_request(requests.Request(method, self.base_url, headers=headers, data=data))
        prepared.url = self.base_url + path  # byte for byte: requests would normalise `../` and re-quote
        return self.http.send(prepared, timeout=TIMEOUT_SECONDS, allow_redirects=False)

    def api(self, method: str, path: str, **options: Any) -> requests.Response:
        """A request whose answer must conform to the OpenAPI document."""
        response = self.send(method, path, **options)
        spec.assert_conforms(response)
        return response

    def state(self, token: str) -> dict[str, Any]:
        response = self.api("GET", "/api/billing/state", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    def charge(self, token: str, amount_literal: str, key: str | None) -> requests.Response:
        headers = bearer(token) if key is None else {**bearer(token), "Idempotency-Key": key}
        return self.api("POST", "/api/billing/charge", headers=headers,
                        body=f'{{"amountUsd": {amount_literal}}}')

    def charge_status(self, token: str, charge_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/api/billing/charge/{charge_id}", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    def auto_top_up(self, token: str, body: str) -> requests.Response:
        return self.api("PATCH", "/api/billing/auto-top-up", headers=bearer(token), body=body)

    # -- section 7: the plan --------------------------------------------------------------
    def subscription(self, token: str) -> dict[str, Any]:
        response = self.api("GET", "/api/billing/subscription", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    def preview(self, token: str, tier_id: str) -> requests.Response:
        return self.api("POST", "/api/billing/subscription/preview", headers=bearer(token),
                        body=json.dumps({"subscriptionTypeId": tier_id}))

    def schedule(self, token: str, tier_id: str | None) -> requests.Response:
        """PUT the pending change: a move to `tier_id` at the cycle's end, or (None) a cancellation."""
        change = {"type": "cancellation"} if tier_id is None else {"type": "tier_change", "subscriptionTypeId": tier_id}
        return self.api("PUT", "/api/billing/subscription/pending-change", headers=bearer(token),
                        body=json.dumps(change))

    def unschedule(self, token: str) -> requests.Response:
        return self.api("DELETE", "/api/billing/subscription/pending-change", headers=bearer(token))

    def upgrade(self, token: str, tier_id: str, key: str | None) -> requests.Response:
        headers = bearer(token) if key is None else {**bearer(token), "Idempotency-Key": key}
        return self.api("POST", "/api/billing/subscription/upgrade", headers=headers,
                        body=json.dumps({"subscriptionTypeId": tier_id}))

    def account(self, token: str) -> dict[str, Any]:
        """`/api/oauth/account`, its money numbers read as exact Decimals."""
        response = self.api("GET", "/api/oauth/account", headers=bearer(token))
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)

    # -- beside the control plane's verbs -------------------------------------------------
    @cached_property
    def control_clock(self) -> dict[str, Any] | None:
        """`GET /_mock/clock`, or None for a portal without the control plane (a real portal,
        or mockportal `--no-control`)."""
        return self.offered()

    def access_token(self, user: str = OWNER, scope: str = BILLING_SCOPE) -> str:
        """An access token that outlives the clock moves of any property (a real login's
        lasts 15 minutes; expiry is not what these properties are about)."""
        return self.token(user, scope, TOKEN_SECONDS)["access_token"]
