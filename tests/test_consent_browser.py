"""End to end: a real headless browser approves a terminal's login on /device.

Drives Debian's chromium with Playwright against a real portal server. Skipped, saying how
to install them, when either is missing; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import pytest
import requests

from mockportal.testing import PortalServer
from tests.browser import page  # noqa: F401  (a fixture)
from tests.conftest import BILLING, DEVICE_GRANT


@pytest.fixture
def server():
    with PortalServer() as running:
        yield running


def poll(server: PortalServer, device_code: str) -> requests.Response:
    return requests.post(f"{server.url}/api/oauth/token", timeout=10, data={
        "grant_type": DEVICE_GRANT, "client_id": "hermes-cli", "device_code": device_code})


def test_a_person_signs_in_ticks_billing_and_approves_in_a_browser(server, page):
    code = requests.post(f"{server.url}/api/oauth/device/code", timeout=10,
                         data={"client_id": "hermes-cli", "scope": BILLING}).json()
    assert poll(server, code["device_code"]).json()["error"] == "authorization_pending"

    page.goto(code["verification_uri_complete"])
    assert code["user_code"] in page.content()
    page.fill("#email", "finance@acme.test")
    page.click("button[type=submit]")

    page.wait_for_selector("text=Hermes CLI wants to use your account")
    assert "Buy credits and change auto-reload" in page.inner_text("#scopes")
    page.check("#allow_terminal_billing")
    page.click("button[value=approve]")
    page.wait_for_selector("h1:has-text('Approved')")
    assert page.inner_text("#billing") == "Terminal billing: allowed."

    token = poll(server, code["device_code"])
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == BILLING
    account = requests.get(f"{server.url}/api/oauth/account", timeout=10,
                           headers={"Authorization": "Bearer " + token.json()["access_token"]}).json()
    assert account["user"]["email"] == "finance@acme.test"
    assert account["organisation"]["id"] == "org_acme"

    # The code is spent: opening the link again says so.
    page.goto(code["verification_uri_complete"])
    assert "This code was already used" in page.content()
