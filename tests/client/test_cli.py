"""`python -m client` against a real portal: what a person reads for each outcome and refusal."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from click.testing import CliRunner

from client.cli import cli

from mockportal.testing import LOGIN_SCOPE
from tests.client.support import refused


def test_an_owner_buys_25(run, as_user, control):
    as_user()
    result = run("buy", "25")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Credited $25.00. Balance: $167.50.\n"
    assert "Buying $25.00 of credit..." in result.stderr
    assert result.stderr.splitlines()[-1] == ".."  # one progress dot per wait: polls at 0, 2 and 4 s


@pytest.mark.parametrize("user,org_edit,code,next_step,portal_path", [
    ("member@acme.test", {}, "role_required", "Ask an owner, admin or finance admin", "/billing"),
    ("owner@globex.test", {}, "cli_billing_disabled", 'must turn on "Allow terminal billing"', "/billing"),
    ("owner@acme.test", {"card": None}, "no_payment_method", "Add a card in the portal", "/billing?topup=open"),
])
def test_a_refused_purchase_says_why_what_next_and_where(run, as_user, control, user, org_edit, code,
                                                         next_step, portal_path):
    if org_edit:
        control.edit_org(**org_edit)
    as_user(user)
    refused(run("buy", "25"), f"({code})", next_step, f"Portal: {control.url}{portal_path}\n")
    assert control.org()["charges"] == []


def test_a_member_stepping_up_is_silently_downscoped(run, as_user, control):
    as_user("member@acme.test", LOGIN_SCOPE)
    result = run("buy", "25", on_device_code=lambda code: control.approve(code.user_code, "member@acme.test", allow_billing=True))
    refused(result, "Terminal billing was not granted", "nothing was charged")
    assert "/device?user_code=" in result.stderr
    assert control.org()["charges"] == []


def test_an_owner_stepping_up_buys(run, as_user, control, store):
    as_user(scope=LOGIN_SCOPE)
    result = run("buy", "25", on_device_code=lambda code: control.approve(code.user_code, "owner@acme.test", allow_billing=True))
    assert result.exit_code == 0, result.output
    assert "and enter the code" in result.stderr
    assert result.stdout.endswith("Credited $25.00. Balance: $167.50.\n")
    assert store.load().can_bill


def test_a_declined_card(run, as_user, control):
    control.edit_org(card={"brand": "visa", "last4": "0002"})
    as_user()
    refused(run("buy", "25"), "The charge failed (card_declined). The card was declined.",
            f"Portal: {control.url}/billing?topup=open")
    assert Decimal(control.org()["balanceUsd"]) == Decimal("142.5")


def test_the_sixth_charge_in_an_hour_is_rate_limited(run, as_user, control):
    as_user()
    for _ in range(5):
        assert run("buy", "10").exit_code == 0
    refused(run("buy", "10"), "(rate_limited)", "Too many charges in the last hour. Try again in ")
    assert len(control.org()["charges"]) == 5


def test_a_charge_over_the_monthly_cap_shows_what_remains(run, as_user, control):
    control.edit_org(monthlyCapUsd="30")
    as_user()
    refused(run("buy", "50"), "(monthly_cap_exceeded)", "Remaining this month: $30.00")


def test_an_amount_out_of_bounds_is_refused_locally(run, as_user, control):
    as_user()
    refused(run("buy", "5"), "(amount_out_of_bounds)", "$10.00 and $10,000.00")
    assert control.journal(method="POST", path_prefix="/api/billing/charge") == []


def test_a_pending_charge_times_out_with_a_clear_next_step(run, as_user, control):
    control.script_outcome(outcome="pending")
    as_user()
    refused(run("buy", "25"), "still pending after 5 minutes", "instead of buying again")


def test_state_for_an_owner(run, as_user, control):
    as_user()
    result = run("state")
    assert result.exit_code == 0
    assert result.stdout == (
        "Acme Inc (org_acme), your role: OWNER\n"
        "Balance:          $142.50\n"
        "Terminal billing: allowed\n"
        "Card:             visa ending 4242\n"
        "This month:       $0.00 of $1,000.00 (default ceiling)\n"
        "Auto-reload:      off: below $20.00, reload to $100.00\n"
        f"Portal:           {control.url}/billing?topup=open\n")


def test_state_for_a_member_hides_billing_details(run, as_user):
    as_user("member@acme.test", LOGIN_SCOPE)
    result = run("state")
    assert "Card:" not in result.stdout and "Auto-reload:" not in result.stdout
    assert "your role: MEMBER" in result.stdout


def test_auto_reload_on_and_off(run, as_user, control):
    as_user()
    result = run("auto-reload", "--threshold", "25", "--reload-to", "150.50")
    assert (result.exit_code, result.stdout) == (0, "Auto-reload on: below $25.00, reload to $150.50.\n")
    assert control.org()["autoReload"] == {"enabled": True, "thresholdUsd": "25", "reloadToUsd": "150.5"}
    result = run("auto-reload", "--disable")
    assert (result.exit_code, result.stdout) == (0, "Auto-reload off.\n")
    assert control.org()["autoReload"] == {"enabled": False, "thresholdUsd": "25", "reloadToUsd": "150.5"}


def test_auto_reload_needs_both_amounts(run, as_user):
    as_user()
    assert run("auto-reload", "--threshold", "25").exit_code == 2


def test_auto_reload_refusal_from_the_portal(run, as_user):
    as_user()
    refused(run("auto-reload", "--threshold", "100", "--reload-to", "50"), "(validation_failed)")


def test_login_then_logout(run, control, store):
    result = run("login", "--billing",
                 on_device_code=lambda code: control.approve(code.user_code, "finance@acme.test", allow_billing=True))
    assert result.exit_code == 0, result.output
    assert "Logged in with scopes: inference:invoke tool:invoke billing:manage." in result.stdout
    assert store.load().can_bill
    assert run("logout").stdout == "Logged out.\n"
    assert store.load() is None


def test_login_with_billing_downscoped_says_so(run, control, store):
    result = run("login", "--billing",
                 on_device_code=lambda code: control.approve(code.user_code, "owner@acme.test", allow_billing=False))
    assert result.exit_code == 0
    assert "Terminal billing was not granted" in result.stdout
    assert not store.load().can_bill


def test_not_logged_in(run):
    refused(run("state"), "Next: Log in: `python -m client login`.")


def test_an_unreachable_portal(run, as_user):
    as_user()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused(run("buy", "25", base_url=f"http://127.0.0.1:{port}"),
            "(network_error)", f"Check that the portal at http://127.0.0.1:{port} is reachable")


def test_a_revoked_session(run, as_user, control, store):
    as_user()
    control.revoke("session", user="owner@acme.test")
    refused(run("buy", "25"), "(session_revoked)", "This login was revoked. Log in again")


def test_the_base_url_comes_from_the_environment(control, store, as_user, monkeypatch):
    as_user()
    monkeypatch.setenv("HERMES_PORTAL_BASE_URL", control.url)
    monkeypatch.setenv("HERMES_HOME", str(store.path.parent))
    result = CliRunner().invoke(cli, ["state"])
    assert result.exit_code == 0, result.output
    assert "Balance:          $142.50" in result.stdout


def test_an_error_after_progress_dots_starts_on_its_own_line(run, as_user, control):
    as_user()
    control.fault("GET", "/api/billing/charge/*", 503, "temporarily_unavailable", retry_after=1)
    control.fault("GET", "/api/billing/charge/*", 401, "session_revoked")
    result = run("buy", "25")
    refused(result, "(session_revoked)")
    assert ".\nError: " in result.stderr  # one dot for the 503's wait, then the error on a new line
