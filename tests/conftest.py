"""Fixtures: `app` (in-memory, demo scenario, frozen clock) -> `client` -> `portal` helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mockportal import create_app
from mockportal.testing import TEST_EPOCH

BILLING = "inference:invoke tool:invoke billing:manage"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def app():
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH})


@pytest.fixture
def client(app):
    return app.test_client()


class PortalDriver:
    """Small verbs over the Flask test client, so tests read like the contract."""

    def __init__(self, client):
        self.client = client

    def token(self, user: str = "owner@acme.test", scope: str = BILLING, expires_in: int = 900) -> dict:
        response = self.client.post("/_mock/tokens", json={"user": user, "scope": scope, "expiresIn": expires_in})
        assert response.status_code == 200, response.json
        return response.json

    def auth(self, user: str = "owner@acme.test", scope: str = BILLING) -> dict:
        return {"Authorization": "Bearer " + self.token(user, scope)["access_token"]}

    def charge(self, headers: dict, amount="25", key: str | None = "key-1", raw: bytes | None = None):
        extra = {} if key is None else {"Idempotency-Key": key}
        body = raw if raw is not None else f'{{"amountUsd": {amount}}}'.encode()
        return self.client.post("/api/billing/charge", data=body, content_type="application/json",
                                headers={**headers, **extra})

    def charge_status(self, headers: dict, charge_id: str) -> dict:
        response = self.client.get(f"/api/billing/charge/{charge_id}", headers=headers)
        assert response.status_code == 200, response.json
        return response.json

    def state(self, headers: dict) -> dict:
        response = self.client.get("/api/billing/state", headers=headers)
        assert response.status_code == 200, response.json
        return response.json

    def balance(self, headers: dict) -> Decimal:
        return Decimal(self.state(headers)["balanceUsd"])

    def advance(self, seconds: float) -> None:
        assert self.client.post("/_mock/clock", json={"advanceSeconds": seconds}).status_code == 200

    def edit_org(self, org_id: str = "org_acme", **changes) -> dict:
        response = self.client.patch(f"/_mock/orgs/{org_id}", json=changes)
        assert response.status_code == 200, response.json
        return response.json

    def org(self, org_id: str = "org_acme") -> dict:
        return self.client.get(f"/_mock/orgs/{org_id}").json

    def script(self, org_id: str = "org_acme", **spec) -> None:
        response = self.client.post(f"/_mock/orgs/{org_id}/outcomes", json=spec)
        assert response.status_code == 200, response.json

    # -- logging in (CONTRACT.md section 6) -------------------------------------------------
    def start_login(self, scope: str | None = BILLING, client_id: str = "hermes-cli") -> dict:
        form = {"client_id": client_id, **({} if scope is None else {"scope": scope})}
        response = self.client.post("/api/oauth/device/code", data=form)
        assert response.status_code == 200, response.json
        return response.json

    def poll(self, device_code: str, client_id: str = "hermes-cli"):
        return self.client.post("/api/oauth/token", data={
            "grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code})

    def approve(self, user_code: str, user: str = "owner@acme.test", allow_terminal_billing: bool = True):
        return self.client.post("/_mock/device/approve", json={
            "userCode": user_code, "user": user, "allowTerminalBilling": allow_terminal_billing})

    def login(self, user: str = "owner@acme.test", allow_terminal_billing: bool = True,
              scope: str = BILLING) -> dict:
        """The whole device flow, approved headlessly: the token response."""
        code = self.start_login(scope)
        assert self.approve(code["user_code"], user, allow_terminal_billing).status_code == 200
        response = self.poll(code["device_code"])
        assert response.status_code == 200, response.json
        return response.json

    def refresh(self, refresh_token: str | None, client_id: str = "hermes-cli"):
        headers = {} if refresh_token is None else {"x-nous-refresh-token": refresh_token}
        return self.client.post("/api/oauth/token", headers=headers,
                                data={"grant_type": "refresh_token", "client_id": client_id})


@pytest.fixture
def portal(client) -> PortalDriver:
    return PortalDriver(client)
