"""Fixtures for the reference client: a real portal on a free port, and fake time.

One `PortalServer` per session, reset to the demo scenario (clock included) before each test.
`FakeTime` is the client's injected clock and sleep: sleeping moves both the fake clock and
the portal's frozen clock, so a 5-minute poll runs in milliseconds.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from client.billing import BillingApi, PortalSession
from client.credentials import Credentials, CredentialStore
from client.transport import Transport
from mockportal.testing import PortalServer

BILLING = "inference:invoke tool:invoke billing:manage"
LOGIN = "inference:invoke tool:invoke"


class Control:
    """The `/_mock` control plane as verbs."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, self.url + "/_mock" + path, json=body, timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def token(self, user: str = "owner@acme.test", scope: str = BILLING, expires_in: int = 900) -> dict:
        return self.call("POST", "/tokens", {"user": user, "scope": scope, "expiresIn": expires_in})

    def advance(self, seconds: float) -> None:
        self.call("POST", "/clock", {"advanceSeconds": seconds})

    def org(self, org_id: str = "org_acme") -> dict:
        return self.call("GET", f"/orgs/{org_id}")

    def edit_org(self, org_id: str = "org_acme", **changes: Any) -> dict:
        return self.call("PATCH", f"/orgs/{org_id}", changes)

    def script(self, org_id: str = "org_acme", **outcome: Any) -> None:
        self.call("POST", f"/orgs/{org_id}/outcomes", outcome)

    def fault(self, method: str, path: str, status: int, error: str, **extra: Any) -> None:
        self.call("POST", "/faults", {"method": method, "path": path, "status": status, "error": error, **extra})

    def requests(self, method: str, path_prefix: str) -> list[dict]:
        entries = self.call("GET", "/requests")["requests"]
        return [e for e in entries if e["method"] == method and e["path"].startswith(path_prefix)]

    def balance(self, org_id: str = "org_acme") -> Decimal:
        return Decimal(self.org(org_id)["balanceUsd"])

    def approve(self, user_code: str, user: str, allow_terminal_billing: bool) -> None:
        self.call("POST", "/device/approve", {"userCode": user_code, "user": user,
                                              "allowTerminalBilling": allow_terminal_billing})


class FakeTime:
    """An injectable clock and sleep; each sleep also moves the portal clock (when given one)."""

    def __init__(self, control: Control | None = None):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.control = control

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.control is not None:
            self.control.advance(seconds)


@pytest.fixture(scope="session")
def server():
    with PortalServer() as portal:
        yield portal


@pytest.fixture
def control(server) -> Control:
    control = Control(server.url)
    control.call("POST", "/reset", {"scenario": "demo"})
    return control


@pytest.fixture
def fake_time(control) -> FakeTime:
    return FakeTime(control)


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore(tmp_path / "hermes" / "portal_credentials.json")


@pytest.fixture
def login(control, store, server):
    """`login(user, scope)` stores a minted token and returns a `BillingApi` using it."""

    def logged_in(user: str = "owner@acme.test", scope: str = BILLING, *,
                  session: requests.Session | None = None) -> BillingApi:
        store.save(Credentials.from_token_response(control.token(user, scope)))
        return BillingApi(PortalSession(Transport(server.url, session), store))

    return logged_in
