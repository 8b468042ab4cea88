"""The OAuth device flow and refresh-token rotation (CONTRACT.md §6), as the Hermes CLI does them.

Device flow: ask for a code, show the person the verification URL and user code, then poll
the token endpoint every second (the Hermes CLI's pace; the portal only says `slow_down`
below once a second) until approved, denied or expired. `slow_down` adds 5 s to the pace
(RFC 8628 §3.5).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from client.config import CLIENT_ID
from client.credentials import Credentials, CredentialStore
from client.errors import NetworkError, OAuthError
from client.transport import Transport

TOKEN_PATH = "/api/oauth/token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
POLL_SECONDS = 1.0
SLOW_DOWN_SECONDS = 5.0


@dataclass(frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


def start_device_flow(transport: Transport, scope: str) -> DeviceCode:
    body = transport.request("POST", "/api/oauth/device/code",
                             form={"client_id": CLIENT_ID, "scope": scope}).body
    return DeviceCode(device_code=body["device_code"], user_code=body["user_code"],
                      verification_uri=body["verification_uri"],
                      verification_uri_complete=body.get("verification_uri_complete", body["verification_uri"]),
                      expires_in=int(body["expires_in"]), interval=int(body["interval"]))


def await_approval(transport: Transport, code: DeviceCode, *,
                   clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> Credentials:
    """Poll until the person approves (the new credentials) or the flow ends (an `OAuthError`:
    `access_denied`, `expired_token`, `invalid_grant`). A dropped poll is simply repeated.
    Gives up itself once `expires_in` passes."""
    pace = POLL_SECONDS
    deadline = clock() + code.expires_in
    while True:
        try:
            body = transport.request("POST", TOKEN_PATH, form={
                "grant_type": DEVICE_GRANT, "client_id": CLIENT_ID, "device_code": code.device_code}).body
            return Credentials.from_token_response(body)
        except OAuthError as exc:
            if exc.error == "slow_down":
                pace += SLOW_DOWN_SECONDS
            elif exc.error != "authorization_pending":
                raise
        except NetworkError:
            pass
        if clock() + pace > deadline:
            raise OAuthError(400, "expired_token", "The login code expired before it was approved.")
        sleep(pace)


def device_login(transport: Transport, scope: str, show: Callable[[DeviceCode], None], *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> Credentials:
    """The whole device flow: start, `show` the code to the person, wait for approval."""
    code = start_device_flow(transport, scope)
    show(code)
    return await_approval(transport, code, clock=clock, sleep=sleep)


def refresh(transport: Transport, store: CredentialStore, credentials: Credentials) -> Credentials:
    """Rotate the pair: the presented refresh token is spent whatever happens, so it is
    forgotten on disk before sending and the new pair is saved as soon as it arrives."""
    store.spend_refresh_token(credentials)
    body = transport.request("POST", TOKEN_PATH, form={"grant_type": "refresh_token", "client_id": CLIENT_ID},
                             headers={"x-nous-refresh-token": credentials.refresh_token}).body
    rotated = Credentials.from_token_response(body)
    store.save(rotated)
    return rotated
