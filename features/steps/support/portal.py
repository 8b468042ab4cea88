"""The portal as the scenarios see it from outside the client: mockportal's `/_mock` control
plane (setup and ledger checks), and the time the client is given to wait with."""

from __future__ import annotations

import time
from typing import Any, Callable

import requests


class ControlPlane:
    """`/_mock` as verbs. Every call must answer 200; anything else is a broken setup."""

    def __init__(self, base_url: str, token: str | None = None):
        self.url = base_url.rstrip("/") + "/_mock"
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def find(cls, base_url: str, token: str | None = None) -> "ControlPlane | None":
        """The portal's control plane, or None when it has none (a real portal, `--no-control`,
        or a control token we were not given): `GET /_mock/clock` must answer 200."""
        control = cls(base_url, token)
        try:
            found = control.http.get(control.url + "/clock", timeout=5).status_code == 200
        except requests.RequestException:
            found = False
        if not found:
            control.http.close()
        return control if found else None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, self.url + path, json=body, timeout=30)
        if response.status_code != 200:
            raise AssertionError(f"control plane {method} {path} answered {response.status_code}: "
                                 f"{response.text}")
        return response.json()

    def close(self) -> None:
        self.http.close()

    def reset(self, scenario: str = "demo") -> None:
        self.call("POST", "/reset", {"scenario": scenario})

    def now(self) -> float:
        return float(self.call("GET", "/clock")["epoch"])

    def advance(self, seconds: float) -> None:
        self.call("POST", "/clock", {"advanceSeconds": seconds})

    def mint(self, user: str, scope: str, expires_in: int = 900) -> dict:
        """A token response for `user`, exactly as `/api/oauth/token` would give it."""
        return self.call("POST", "/tokens", {"user": user, "scope": scope, "expiresIn": expires_in})

    def org(self, org_id: str) -> dict:
        return self.call("GET", f"/orgs/{org_id}")

    def edit_org(self, org_id: str, **changes: Any) -> None:
        self.call("PATCH", f"/orgs/{org_id}", changes)

    def edit_user(self, email: str, **changes: Any) -> None:
        self.call("PATCH", f"/users/{email}", changes)

    def script(self, org_id: str, **outcome: Any) -> None:
        self.call("POST", f"/orgs/{org_id}/outcomes", outcome)

    def debit_usage(self, org_id: str, amount: str) -> None:
        self.call("POST", f"/orgs/{org_id}/usage", {"amountUsd": amount})

    def fault(self, **spec: Any) -> None:
        self.call("POST", "/faults", spec)

    def revoke(self, kind: str, token: str, actor: str = "admin") -> None:
        self.call("POST", "/revocations", {"kind": kind, "token": token, "actor": actor})

    def approve(self, user_code: str, user: str, allow_terminal_billing: bool) -> None:
        self.call("POST", "/device/approve", {"userCode": user_code, "user": user,
                                              "allowTerminalBilling": allow_terminal_billing})

    def deny(self, user_code: str) -> None:
        self.call("POST", "/device/deny", {"userCode": user_code})


class PortalTime:
    """The clock and sleep injected into the client. With a control plane, sleeping moves the
    portal clock instead of waiting, so five minutes of polling take no wall time; without
    one (a real portal), it really sleeps."""

    def __init__(self, control: ControlPlane | None):
        self.control = control
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self._later: list[tuple[float, Callable[[], None]]] = []

    def clock(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
        if self.control is None:
            time.sleep(seconds)
        else:
            self.control.advance(seconds)
        due = [action for at, action in self._later if at <= self.elapsed]
        self._later = [(at, action) for at, action in self._later if at > self.elapsed]
        for action in due:
            action()

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Do `action` once the client has waited `seconds` more: what a person does meanwhile."""
        self._later.append((self.elapsed + seconds, action))
