"""Money on the wire: requests carry JSON number literals read exactly, responses carry
canonical decimal strings, and the reference client's money rules are the portal's.

Every response these properties read is also checked against the OpenAPI document, whose
money fields have a canonical-decimal `pattern`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from client.errors import PortalError
from client.money import parse_money, to_json_number, validate_amount
from contract.profiles import examples
from contract.strategies import amount_literals, amounts, balances, small_amounts, spellings
from contract.world import ACME, HIGH_CAP, SEED_BALANCE, SETTLE_AFTER_SECONDS, world

pytestmark = pytest.mark.control


def with_trailing_zeros(amount: Decimal) -> str:
    """`25.5` as `25.5000`: a non-canonical spelling the portal must not echo."""
    return format(amount.quantize(Decimal("0.0001")), "f")


def client_verdict(amount: Decimal, bounds: dict[str, str]) -> str | None:
    """None if the client's validator accepts `amount`, else the error code it predicts."""
    try:
        validate_amount(amount, parse_money(bounds["minUsd"]), parse_money(bounds["maxUsd"]))
    except PortalError as refused:
        return refused.error
    return None


@settings(max_examples=examples(2))
@given(amount_literal=amount_literals)
@example(amount_literal="0.005")
@example(amount_literal="9999.995")
@example(amount_literal="1e-2")
@example(amount_literal="1e400")
@example(amount_literal="-0")
@example(amount_literal="10000.00")
def test_portal_accepts_exactly_the_amounts_the_client_validator_accepts(portal, amount_literal):
    note(f"amount literal: {amount_literal}")
    portal.reset(world(monthlyCapUsd=HIGH_CAP))
    token = portal.access_token()
    verdict = client_verdict(Decimal(amount_literal), portal.state(token)["bounds"])

    response = portal.charge(token, amount_literal, key="money-1")

    if verdict is None:
        assert response.status_code == 202, f"client accepts {amount_literal}, portal says {response.text}"
    else:
        assert (response.status_code, response.json()["error"]) == (400, verdict), \
            f"client refuses {amount_literal} with {verdict}, portal says {response.status_code} {response.text}"


@settings(max_examples=examples(1))
@given(amount=amounts, data=st.data())
def test_an_accepted_amount_settles_and_credits_exactly_its_value(portal, amount, data):
    """No float anywhere: the settled amount and the balance rise equal the literal sent."""
    amount_literal = data.draw(spellings(amount) | st.just(to_json_number(amount)), label="amount_literal")
    note(f"amount literal: {amount_literal}")
    portal.reset(world(monthlyCapUsd=HIGH_CAP))
    token = portal.access_token()

    accepted = portal.charge(token, amount_literal, key="money-2")
    assert accepted.status_code == 202, accepted.text
    charge_id = accepted.json()["chargeId"]
    portal.advance(SETTLE_AFTER_SECONDS)
    settled = portal.charge_status(token, charge_id)
    state = portal.state(token)

    assert settled["status"] == "settled"
    assert parse_money(settled["amountUsd"]) == Decimal(amount_literal)
    assert parse_money(state["balanceUsd"]) == SEED_BALANCE[ACME] + Decimal(amount_literal)
    assert parse_money(state["monthlyCap"]["spentThisMonthUsd"]) == Decimal(amount_literal)


@settings(max_examples=examples(1))
@given(balance=balances, cap=small_amounts, threshold=small_amounts, reload_to=small_amounts)
def test_money_set_behind_the_api_reads_back_canonical_and_lossless(portal, balance, cap, threshold, reload_to):
    """Balance, cap and auto-reload values, spelled with trailing zeros on the way in, come back
    as canonical strings (the client's strict parser reads every one) equal to what was set."""
    note(f"balance {balance}, cap {cap}, threshold {threshold}, reload to {reload_to}")
    portal.reset(world(monthlyCapUsd=with_trailing_zeros(cap), balanceUsd=with_trailing_zeros(balance)))
    token = portal.access_token()
    enabled = reload_to > threshold
    body = (f'{{"enabled": {str(enabled).lower()}, "threshold": {with_trailing_zeros(threshold)}, '
            f'"topUpAmount": {with_trailing_zeros(reload_to)}}}')
    assert portal.auto_top_up(token, body).status_code == 200

    state = portal.state(token)

    assert parse_money(state["balanceUsd"]) == balance
    assert parse_money(state["monthlyCap"]["limitUsd"]) == cap
    assert parse_money(state["autoReload"]["thresholdUsd"]) == threshold
    assert parse_money(state["autoReload"]["reloadToUsd"]) == reload_to
    assert [parse_money(p) for p in state["chargePresets"]] == [Decimal(100), Decimal(250), Decimal(500)]


@settings(max_examples=examples(1))
@given(cap=small_amounts, first=small_amounts, second=small_amounts)
def test_cap_refusal_reports_the_exact_remaining_headroom(portal, cap, first, second):
    note(f"cap {cap}, charges {first} then {second}")
    portal.reset(world(monthlyCapUsd=format(cap, "f")))
    token = portal.access_token()
    spent = Decimal(0)
    for key, amount in (("cap-1", first), ("cap-2", second)):
        response = portal.charge(token, to_json_number(amount), key=key)
        headroom = cap - spent
        if amount <= headroom:
            assert response.status_code == 202, response.text
            spent += amount
        else:
            refusal = response.json()
            assert (response.status_code, refusal["error"]) == (403, "monthly_cap_exceeded"), response.text
            assert parse_money(refusal["remainingUsd"]) == headroom
    assert parse_money(portal.state(token)["monthlyCap"]["spentThisMonthUsd"]) == spent
