"""`python -m client` against a real portal: what a person reads for each outcome and refusal."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from click.testing import CliRunner

from client.cli import Runtime, cli
from client.credentials import Credentials

from tests.client.conftest import LOGIN


@pytest.fixture
def run(server, store, fake_time):
    """`run(*args, on_device_code=None)` → click Result (exit_code, stdout, stderr)."""

    def invoke(*args: str, on_device_code=None, base_url: str | None = None):
        runtime = Runtime(clock=fake_time.clock, sleep=fake_time.sleep, on_device_code=on_device_code)
        return CliRunner().invoke(cli, ["--base-url", base_url or server.url, "--credentials", str(store.path),
                                        *args], obj=runtime, catch_exceptions=False)

    return invoke


@pytest.fixture
def as_user(control, store):
    def logged_in(user: str = "owner@acme.test", scope: str = "inference:invoke tool:invoke billing:manage"):
        store.save(Credentials.from_token_response(control.token(user, scope)))

    return logged_in


def test_an_owner_buys_25(run, as_user, control):
    as_user()
    result = run("buy", "25")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Credited $25.00. Balance: $167.50.\n"
    assert "Buying $25.00 of credit..." in result.stderr
    assert "..." in result.stderr.splitlines()[-1]  # one progress dot per poll


def test_a_member_cannot_spend(run, as_user, control):
    as_user("member@acme.test")
    result = run("buy", "25")
    assert result.exit_code == 1
    assert "(role_required)" in result.stderr
    assert "Ask an owner, admin or finance admin" in result.stderr
    assert f"Portal: {control.url}/billing" in result.stderr


def test_a_member_stepping_up_is_silently_downscoped(run, as_user, control):
    as_user("member@acme.test", LOGIN)
    result = run("buy", "25", on_device_code=lambda code: control.approve(code.user_code, "member@acme.test", True))
    assert result.exit_code == 1
    assert "/device?user_code=" in result.stdout
    assert "Terminal billing was not granted" in result.stderr
    assert "nothing was charged" in result.stderr
    assert control.org()["charges"] == []


def test_an_owner_stepping_up_buys(run, as_user, control, store):
    as_user(scope=LOGIN)
    result = run("buy", "25", on_device_code=lambda code: control.approve(code.user_code, "owner@acme.test", True))
    assert result.exit_code == 0, result.output
    assert "confirm the code" in result.stderr
    assert result.stdout.endswith("Credited $25.00. Balance: $167.50.\n")
    assert store.load().can_bill


def test_an_org_with_terminal_billing_off(run, as_user, control):
    as_user("owner@globex.test")
    result = run("buy", "25")
    assert result.exit_code == 1
    assert "(cli_billing_disabled)" in result.stderr
    assert "turn on \"Allow terminal billing\"" in result.stderr
    assert f"Portal: {control.url}/billing\n" in result.stderr


def test_no_saved_card(run, as_user, control):
    control.edit_org(card=None)
    as_user()
    result = run("buy", "25")
    assert result.exit_code == 1
    assert "(no_payment_method)" in result.stderr
    assert "Add a card in the portal" in result.stderr
    assert f"Portal: {control.url}/billing?topup=open" in result.stderr


def test_a_declined_card(run, as_user, control):
    control.edit_org(card={"brand": "visa", "last4": "0002"})
    as_user()
    result = run("buy", "25")
    assert result.exit_code == 1
    assert "The charge failed (card_declined). The card was declined." in result.stderr
    assert control.balance() == Decimal("142.5")


def test_the_sixth_charge_in_an_hour_is_rate_limited(run, as_user, control):
    as_user()
    for _ in range(5):
        assert run("buy", "10").exit_code == 0
    result = run("buy", "10")
    assert result.exit_code == 1
    assert "(rate_limited)" in result.stderr
    assert "Too many charges in the last hour. Try again in " in result.stderr
    assert len(control.org()["charges"]) == 5


def test_a_charge_over_the_monthly_cap_shows_what_remains(run, as_user, control):
    control.edit_org(monthlyCapUsd="30")
    as_user()
    result = run("buy", "50")
    assert result.exit_code == 1
    assert "(monthly_cap_exceeded)" in result.stderr
    assert "Remaining this month: $30.00" in result.stderr


def test_an_amount_out_of_bounds_is_refused_locally(run, as_user, control):
    as_user()
    result = run("buy", "5")
    assert result.exit_code == 1
    assert "(amount_out_of_bounds)" in result.stderr
    assert "$10.00 and $10,000.00" in result.stderr
    assert control.requests("POST", "/api/billing/charge") == []


def test_a_pending_charge_times_out_with_a_clear_next_step(run, as_user, control, fake_time):
    control.script(outcome="pending")
    as_user()
    result = run("buy", "25")
    assert result.exit_code == 1
    assert "still pending after 5 minutes" in result.stderr
    assert "instead of buying again" in result.stderr


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
    as_user("member@acme.test", LOGIN)
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
    result = run("auto-reload", "--threshold", "100", "--reload-to", "50")
    assert result.exit_code == 1
    assert "(validation_failed)" in result.stderr


def test_login_then_logout(run, control, store):
    result = run("login", "--billing",
                 on_device_code=lambda code: control.approve(code.user_code, "finance@acme.test", True))
    assert result.exit_code == 0, result.output
    assert "Logged in with scopes: inference:invoke tool:invoke billing:manage." in result.stdout
    assert store.load().can_bill
    assert run("logout").stdout == "Logged out.\n"
    assert store.load() is None


def test_login_with_billing_downscoped_says_so(run, control, store):
    result = run("login", "--billing",
                 on_device_code=lambda code: control.approve(code.user_code, "owner@acme.test", False))
    assert result.exit_code == 0
    assert "Terminal billing was not granted" in result.stdout
    assert not store.load().can_bill


def test_not_logged_in(run):
    result = run("state")
    assert result.exit_code == 1
    assert "Next: Log in: `python -m client login`." in result.stderr


def test_an_unreachable_portal(run, as_user):
    as_user()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("buy", "25", base_url=f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "(network_error)" in result.stderr
    assert f"Check that the portal at http://127.0.0.1:{port} is reachable" in result.stderr


def test_a_revoked_session(run, as_user, control, store):
    as_user()
    control.call("POST", "/revocations", {"kind": "session", "user": "owner@acme.test"})
    result = run("buy", "25")
    assert "(session_revoked)" in result.stderr
    assert "This login was revoked. Log in again" in result.stderr


def test_the_base_url_comes_from_the_environment(server, store, as_user, monkeypatch):
    as_user()
    monkeypatch.setenv("HERMES_PORTAL_BASE_URL", server.url)
    monkeypatch.setenv("HERMES_HOME", str(store.path.parent))
    result = CliRunner().invoke(cli, ["state"])
    assert result.exit_code == 0, result.output
    assert "Balance:          $142.50" in result.stdout
