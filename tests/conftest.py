"""Fixtures: `app` (in-memory, demo scenario, frozen clock) -> `client` -> `portal` helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mockportal import create_app
from mockportal.testing import BILLING_SCOPE as BILLING, DEVICE_GRANT, TEST_EPOCH, Control, FlaskTransport


@pytest.fixture(scope="session")
def _one_app():
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH})


@pytest.fixture
def app(_one_app):
    """The demo scenario at TEST_EPOCH, by the control plane's own reset: one app for the
    session, since building one (schema, seed, blueprints) cost 13 ms a test, ~9 s a run."""
    _one_app.extensions["mockportal"].reset(scenario="demo")
    return _one_app


@pytest.fixture
def client(app):
    return app.test_client()


class PortalDriver(Control):
    """The harness's control-plane verbs over the Flask test client, plus the public API as
    the terminal calls it (raw responses, so tests read status codes and error bodies)."""

    def __init__(self, client):
        super().__init__(FlaskTransport(client))
        self.client = client

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

    # -- logging in (CONTRACT.md section 6), one request at a time ----------------------------
    def start_login(self, scope: str | None = BILLING, client_id: str = "hermes-cli") -> dict:
        form = {"client_id": client_id, **({} if scope is None else {"scope": scope})}
        response = self.client.post("/api/oauth/device/code", data=form)
        assert response.status_code == 200, response.json
        return response.json

    def poll(self, device_code: str, client_id: str = "hermes-cli"):
        return self.client.post("/api/oauth/token", data={
            "grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code})

    def refresh(self, refresh_token: str | None, client_id: str = "hermes-cli"):
        headers = {} if refresh_token is None else {"x-nous-refresh-token": refresh_token}
        return self.client.post("/api/oauth/token", headers=headers,
                                data={"grant_type": "refresh_token", "client_id": client_id})


@pytest.fixture
def portal(client) -> PortalDriver:
    return PortalDriver(client)
