"""PATCH /api/billing/auto-top-up and the reload a usage debit triggers."""

from decimal import Decimal

import pytest

ENABLE = {"enabled": True, "threshold": 20, "topUpAmount": 100}


def _patch(portal, body, headers=None, raw=None):
    headers = headers or portal.bearer()
    if raw is not None:
        return portal.client.patch("/api/billing/auto-top-up", data=raw, content_type="application/json",
                                   headers=headers)
    return portal.client.patch("/api/billing/auto-top-up", json=body, headers=headers)


def _debit(portal, amount):
    portal.debit_usage("org_acme", amount)


def test_enabling_answers_ok_with_the_rule_and_state_shows_it(portal):
    response = _patch(portal, {"enabled": True, "threshold": 25.5, "topUpAmount": 150})
    expected = {"enabled": True, "thresholdUsd": "25.5", "reloadToUsd": "150", "card": {"kind": "canonical"}}
    assert response.status_code == 200 and response.json == {"ok": True, "autoReload": expected}
    assert portal.state(portal.bearer())["autoReload"] == expected


def test_disabling_accepts_any_non_negative_values(portal):
    _patch(portal, ENABLE)
    response = _patch(portal, {"enabled": False, "threshold": 0, "topUpAmount": 0})
    assert response.status_code == 200 and response.json["autoReload"]["enabled"] is False


@pytest.mark.parametrize("raw", [
    b'{"enabled": true, "threshold": 20}', b'{"enabled": true, "threshold": 20, "topUpAmount": 100, "x": 1}',
    b'{"enabled": "yes", "threshold": 20, "topUpAmount": 100}',
    b'{"enabled": true, "threshold": "20", "topUpAmount": 100}',
    b'{"enabled": true, "threshold": 20.001, "topUpAmount": 100}',
    b'{"enabled": true, "threshold": 100, "topUpAmount": 100}',
    b'{"enabled": true, "threshold": 150, "topUpAmount": 100}',
    b'{"enabled": false, "threshold": -1, "topUpAmount": 0}',
    b'{"enabled": true, "threshold": NaN, "topUpAmount": 100}', b"[]",
])
def test_invalid_rules_are_validation_failed(portal, raw):
    response = _patch(portal, None, raw=raw)
    assert response.status_code == 400 and response.json["error"] == "validation_failed", raw


@pytest.mark.parametrize("body", [
    {"enabled": True, "threshold": 5, "topUpAmount": 100},
    {"enabled": True, "threshold": 20, "topUpAmount": 10000.01},
])
def test_enabled_values_outside_bounds_are_amount_out_of_bounds(portal, body):
    assert _patch(portal, body).json["error"] == "amount_out_of_bounds"


@pytest.mark.parametrize("user, scope, code", [
    ("owner@acme.test", "inference:invoke", "insufficient_scope"),
    ("member@acme.test", "billing:manage", "role_required"),
    ("owner@globex.test", "billing:manage", "cli_billing_disabled"),
])
def test_gates_one_to_five_apply(portal, user, scope, code):
    response = _patch(portal, ENABLE, headers=portal.bearer(user, scope))
    assert response.status_code == 403 and response.json["error"] == code


def test_a_debit_below_the_threshold_reloads_up_to_reload_to(portal):
    _patch(portal, ENABLE)
    _debit(portal, "130")  # 142.5 -> 12.5, below 20
    reloads = [c for c in portal.org()["charges"] if c["source"] == "auto_reload"]
    assert [(c["amountUsd"], c["status"]) for c in reloads] == [("87.5", "pending")]
    portal.advance(3)
    assert portal.balance(portal.bearer()) == Decimal("100")


def test_a_debit_that_stays_above_the_threshold_does_not_reload(portal):
    _patch(portal, ENABLE)
    _debit(portal, "122.5")  # exactly 20 left: not below
    assert portal.org()["charges"] == []


def test_sub_cent_usage_reloads_to_at_least_reload_to(portal):
    _patch(portal, ENABLE)
    _debit(portal, "130.0042")
    portal.advance(3)
    assert portal.org()["charges"][0]["amountUsd"] == "87.51"
    assert portal.balance(portal.bearer()) == Decimal("100.0058")


def test_one_reload_in_flight_at_a_time(portal):
    _patch(portal, ENABLE)
    _debit(portal, "130")
    _debit(portal, "5")
    assert len(portal.org()["charges"]) == 1


def test_disabled_or_cardless_orgs_do_not_reload(portal):
    _debit(portal, "130")
    assert portal.org()["charges"] == []
    _patch(portal, ENABLE)
    portal.edit_org(card=None)
    _debit(portal, "5")
    assert portal.org()["charges"] == []


def test_reloads_respect_the_monthly_cap(portal):
    _patch(portal, ENABLE)
    portal.edit_org(monthlyCapUsd="50")
    _debit(portal, "130")
    assert portal.org()["charges"][0]["amountUsd"] == "50"
    portal.edit_org(monthlyCapUsd="50")
    _debit(portal, "100")
    assert len(portal.org()["charges"]) == 1


def test_a_declined_reload_credits_nothing(portal):
    _patch(portal, ENABLE)
    portal.edit_org(card={"brand": "visa", "last4": "0002"})
    _debit(portal, "130")
    portal.advance(3)
    assert portal.balance(portal.bearer()) == Decimal("12.5")


def test_the_ledger_balances(portal):
    _patch(portal, ENABLE)
    headers = portal.bearer()
    portal.charge(headers, amount="40", key="a")
    _debit(portal, "170")
    portal.advance(3)
    report = portal.org()
    settled = sum(Decimal(c["amountUsd"]) for c in report["charges"] if c["status"] == "settled")
    used = sum(Decimal(u["amountUsd"]) for u in report["usage"])
    assert Decimal(report["balanceUsd"]) == Decimal("142.5") + settled - used
