"""GET /api/billing/charge/{id}: settlement on the portal clock, test-card outcomes, isolation."""

from decimal import Decimal

import pytest

from tests.conftest import BILLING


def _accepted(portal, headers, amount="25", key="k"):
    response = portal.charge(headers, amount=amount, key=key)
    assert response.status_code == 202, response.json
    return response.json["chargeId"]


def test_a_charge_is_pending_until_settle_after_seconds_then_credits_once(portal):
    headers = portal.bearer()
    charge_id = _accepted(portal, headers, amount="25.5")
    portal.advance(2)
    assert portal.charge_status(headers, charge_id) == {"status": "pending"}
    assert portal.balance(headers) == Decimal("142.5")
    portal.advance(1)
    assert portal.charge_status(headers, charge_id) == {
        "status": "settled", "amountUsd": "25.5", "settledAt": "2026-06-10T12:00:03Z"}
    for _ in range(3):
        portal.charge_status(headers, charge_id)
        assert portal.balance(headers) == Decimal("168")


def test_settlement_is_seen_through_state_without_polling_the_charge(portal):
    headers = portal.bearer()
    _accepted(portal, headers, amount="100")
    portal.advance(3)
    assert portal.state(headers)["balanceUsd"] == "242.5"


@pytest.mark.parametrize("last4, reason", [
    ("0002", "card_declined"), ("3184", "authentication_required"),
    ("0069", "payment_method_expired"), ("0119", "processing_error"),
])
def test_stripe_test_cards_fail_with_their_reason_and_credit_nothing(portal, last4, reason):
    portal.edit_org(card={"brand": "visa", "last4": last4})
    headers = portal.bearer()
    charge_id = _accepted(portal, headers)
    portal.advance(3)
    assert portal.charge_status(headers, charge_id) == {"status": "failed", "reason": reason}
    assert portal.balance(headers) == Decimal("142.5")


def test_the_card_at_acceptance_decides_the_outcome(portal):
    headers = portal.bearer()
    charge_id = _accepted(portal, headers)
    portal.edit_org(card={"brand": "visa", "last4": "0002"})
    portal.advance(3)
    assert portal.charge_status(headers, charge_id)["status"] == "settled"


def test_scripted_outcomes_apply_to_the_next_charges_in_order(portal):
    headers = portal.bearer()
    portal.script_outcome(outcome="fail", reason="processing_error")
    portal.script_outcome(outcome="settle", after_seconds=60)
    portal.script_outcome(outcome="pending")
    failed, slow, forever, normal = (_accepted(portal, headers, key=f"k{i}") for i in range(4))
    portal.advance(3)
    assert portal.charge_status(headers, failed) == {"status": "failed", "reason": "processing_error"}
    assert portal.charge_status(headers, slow) == {"status": "pending"}
    assert portal.charge_status(headers, normal)["status"] == "settled"
    portal.advance(60)
    assert portal.charge_status(headers, slow)["status"] == "settled"
    portal.advance(10**6)
    assert portal.charge_status(portal.bearer(), forever) == {"status": "pending"}


def test_settle_after_seconds_is_configurable_per_org(portal):
    portal.edit_org(settleAfterSeconds=0)
    headers = portal.bearer()
    charge_id = _accepted(portal, headers)
    assert portal.charge_status(headers, charge_id)["status"] == "settled"


@pytest.mark.parametrize("charge_id", ["ch_unknown", "x", "../x", "..%2Fx", "a/b/c", "ch_" + "z" * 10_000])
def test_unknown_ids_answer_pending(portal, charge_id):
    assert portal.charge_status(portal.bearer(), charge_id) == {"status": "pending"}


def test_another_orgs_charge_answers_pending_and_leaks_nothing(portal):
    charge_id = _accepted(portal, portal.bearer())
    portal.advance(3)
    assert portal.charge_status(portal.bearer(), charge_id)["status"] == "settled"
    assert portal.charge_status(portal.bearer("owner@globex.test", BILLING), charge_id) == {"status": "pending"}


def test_reading_a_charge_needs_billing_manage(portal):
    response = portal.client.get("/api/billing/charge/ch_x", headers=portal.bearer(scope="inference:invoke"))
    assert response.status_code == 403 and response.json["error"] == "insufficient_scope"


def test_a_charge_in_flight_stays_observable_when_spending_is_switched_off(portal):
    headers = portal.bearer()
    charge_id = _accepted(portal, headers)
    portal.edit_org(cliBillingEnabled=False)
    portal.revoke("spending", user="owner@acme.test")
    portal.edit_user("owner@acme.test", role="MEMBER")
    portal.advance(3)
    assert portal.charge_status(headers, charge_id)["status"] == "settled"
