"""Fixtures for the reference client: a real portal on a free port, and the client's time.

`control` is the mockportal pytest plugin's `mockportal` fixture, as a downstream project
uses it: one portal server per session (real HTTP, frozen clock), reset to the demo scenario
(clock included) before each test; `control.url` is its base URL. `fake_time` is the client's
injected clock and sleep (`mockportal.testing.PortalTime`): sleeping moves the portal clock
too, so a 5-minute poll runs in milliseconds. `run` is `python -m client` against that portal,
`as_user` stores a login for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from client.billing import BillingApi, PortalSession
from client.cli import Runtime, cli
from client.credentials import Credentials, CredentialStore
from client.transport import Transport
from mockportal.testing import BILLING_SCOPE, PortalTime


@pytest.fixture
def control(mockportal):
    return mockportal


@pytest.fixture
def fake_time(control) -> PortalTime:
    return PortalTime(control)


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore(tmp_path / "hermes" / "portal_credentials.json")


@pytest.fixture
def login(control, store):
    """`login(user, scope)` stores a minted token and returns a `BillingApi` using it."""

    def logged_in(user: str = "owner@acme.test", scope: str = BILLING_SCOPE, *,
                  session: requests.Session | None = None) -> BillingApi:
        store.save(Credentials.from_token_response(control.token(user, scope)))
        return BillingApi(PortalSession(Transport(control.url, session), store))

    return logged_in


@pytest.fixture
def run(control, store, fake_time):
    """`run(*args, on_device_code=None, input=None)` → click Result (exit_code, stdout, stderr);
    `input` is what the person types at the prompts."""

    def invoke(*args: str, on_device_code=None, base_url: str | None = None, input: str | None = None):
        runtime = Runtime(clock=fake_time.clock, sleep=fake_time.sleep, on_device_code=on_device_code)
        return CliRunner().invoke(cli, ["--base-url", base_url or control.url, "--credentials", str(store.path),
                                        *args], obj=runtime, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def as_user(control, store):
    def logged_in(user: str = "owner@acme.test", scope: str = BILLING_SCOPE):
        store.save(Credentials.from_token_response(control.token(user, scope)))

    return logged_in
