"""End to end: the control plane's dashboard at /_mock/ in a real headless browser.

Traffic is made through the public API (a purchase, a plan upgrade, a metered chat, a device
login); the page shows each as it happens, and its buttons move the clock and approve the
login. Screenshots go to reports/dashboard/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import requests

from mockportal.testing import BILLING_SCOPE, DEMO_PLAN_OWNER, DEVICE_GRANT, PortalServer
from tests.browser import page  # noqa: F401  (a fixture)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "dashboard"


@pytest.fixture
def server():
    with PortalServer() as running:
        yield running


def snap(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_dashboard_shows_traffic_as_it_happens_and_its_buttons_work(server, page):
    control = server.control()
    page.goto(server.url + "/_mock/")
    assert page.inner_text("#now") == "2026-06-10T12:00:00Z"
    assert "No charges." in page.inner_text("#org-org_acme")

    # A purchase by acme's owner: pending until the clock passes its settlement.
    owner = control.bearer("owner@acme.test", BILLING_SCOPE)
    bought = requests.post(server.url + "/api/billing/charge", data='{"amountUsd": 25}', timeout=10,
                           headers={**owner, "Idempotency-Key": "dash-1", "Content-Type": "application/json"})
    assert bought.status_code == 202, bought.text
    charge_id = bought.json()["chargeId"]
    page.reload()
    row = page.locator(f"#org-org_acme .charges tr:has-text('{charge_id}')")
    assert "pending" in row.inner_text() and "$25" in row.inner_text()
    assert page.inner_text("#org-org_acme .balance") == "$142.5"

    # pat upgrades Plus -> Pro (charged now) and chats with a paid model (metered).
    pat = control.bearer(DEMO_PLAN_OWNER, BILLING_SCOPE)
    upgraded = requests.post(server.url + "/api/billing/subscription/upgrade", timeout=10,
                             json={"subscriptionTypeId": "nous-chat-plan-40"},
                             headers={**pat, "Idempotency-Key": "dash-up-1"})
    assert upgraded.json()["status"] == "upgraded", upgraded.text
    chat = requests.post(server.url + "/v1/chat/completions", headers=pat, timeout=10,
                         json={"model": "anthropic/claude-sonnet-5",
                               "messages": [{"role": "user", "content": "Say hello"}]})
    assert chat.status_code == 200, chat.text
    usage = chat.json()["usage"]
    cost = control.journal(path_prefix="/v1/chat/completions")[-1]["costUsd"]
    assert Decimal(cost) > 0
    page.reload()
    pat_section = page.locator("#org-org_pat")
    assert "Pro" in pat_section.locator(".fact:has-text('Plan')").inner_text()
    upgrade_row = pat_section.locator(".upgrades tr").nth(1).inner_text()
    assert "Pro" in upgrade_row and "upgraded" in upgrade_row
    assert f"${Decimal(upgraded.json()['amountChargedCents']) / 100:.2f}" in upgrade_row
    chat_row = pat_section.locator(".completions tr").nth(1).inner_text()
    assert "anthropic/claude-sonnet-5" in chat_row and f"${cost}" in chat_row
    assert str(usage["prompt_tokens"]) in chat_row and "G $" in chat_row  # the plan's grant paid
    journal_row = page.locator("#journal tr:has-text('/v1/chat/completions')").first.inner_text()
    assert "anthropic/claude-sonnet-5" in journal_row and f"${cost}" in journal_row
    snap(page, "1-traffic")

    # +1 min: the purchase settles and the balance rises by it.
    page.click("#clock button:has-text('+1 min')")
    assert "Clock moved +1 min" in page.inner_text(".notice")
    assert page.inner_text("#now") == "2026-06-10T12:01:00Z"
    assert "settled" in page.locator(f"#org-org_acme .charges tr:has-text('{charge_id}')").inner_text()
    assert page.inner_text("#org-org_acme .balance") == "$167.5"
    assert control.org("org_acme")["balanceUsd"] == "167.5"

    # A terminal asks to log in; the page approves it as finance@acme.test, with billing.
    code = requests.post(server.url + "/api/oauth/device/code", timeout=10,
                         data={"client_id": "hermes-cli", "scope": BILLING_SCOPE}).json()
    page.reload()
    login = page.locator(f"#login-{code['user_code']}")
    login.locator("select[name=user]").select_option("finance@acme.test")
    login.locator("input[name=allow_terminal_billing]").check()
    snap(page, "2-login-waiting")
    login.locator("button:has-text('Approve')").click()
    assert f"Approved {code['user_code']} as finance@acme.test" in page.inner_text(".notice")
    assert "No login is waiting" in page.inner_text("#logins")
    token = requests.post(server.url + "/api/oauth/token", timeout=10, data={
        "grant_type": DEVICE_GRANT, "client_id": "hermes-cli", "device_code": code["device_code"]})
    assert token.status_code == 200 and token.json()["scope"] == BILLING_SCOPE
    snap(page, "3-after-actions")

    # The journal filters by path and status, from the query string.
    page.goto(server.url + "/_mock/?path=/api/billing/charge&status=2xx")
    paths = page.locator("#journal td.mono:nth-child(3)").all_inner_texts()
    assert paths == ["/api/billing/charge"]


def test_with_a_control_token_the_browser_signs_in_once_and_portal_links_lead_there(page):
    with PortalServer(control_token="s3cret") as server:
        page.goto(server.url + "/_mock/")
        assert "This dashboard needs the control token" in page.inner_text("h2")
        page.fill("#token", "wrong")
        page.click("button:has-text('Open the dashboard')")
        assert "not the server's control token" in page.inner_text(".error")
        snap(page, "4-login")
        page.fill("#token", "s3cret")
        page.click("button:has-text('Open the dashboard')")
        assert page.url == server.url + "/_mock/" and "Acme Inc" in page.inner_text("#org-org_acme h2")

        # The link the client prints for a top-up leads to a page that names the org and
        # links the dashboard, where this browser is already signed in.
        page.goto(server.url + "/orgs/acme/billing?topup=open")
        assert page.inner_text("h1") == "Buy credits for Acme Inc"
        snap(page, "5-portal-link")
        page.click("text=Open the mockportal dashboard")
        assert page.url == server.url + "/_mock/#org-org_acme"
        page.click("#org-org_acme .kill-switch button:has-text('Turn off')")
        assert "Terminal billing for org_acme is off." in page.inner_text(".notice")
        assert server.control().org("org_acme")["cliBillingEnabled"] is False
