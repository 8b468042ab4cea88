"""The buy journey against a real portal: state → validate → charge with a fresh key → poll."""

from __future__ import annotations

from decimal import Decimal

import pytest

from client import errors
from client.journeys import buy

from tests.client.stubs import LosesAnswers, session_with

CHARGE = "POST /api/billing/charge"


def run(api, fake_time, amount="25", **kwargs):
    return buy(api, Decimal(amount), clock=fake_time.clock, sleep=fake_time.sleep, **kwargs)


def test_an_owner_buys_25_and_it_settles(control, login, fake_time):
    result = run(login(), fake_time)
    assert (result.outcome, result.amount, result.credited) == ("settled", Decimal("25"), Decimal("25"))
    assert Decimal(control.org()["balanceUsd"]) == Decimal("167.5")
    assert [c["id"] for c in control.org()["charges"]] == [result.charge_id]
    assert fake_time.sleeps == [2, 2]  # settles 3 s after acceptance: polls at 0, 2, 4


def test_each_purchase_uses_a_fresh_uuid4_key(control, login, fake_time):
    api = login()
    first, second = run(api, fake_time), run(api, fake_time)
    assert first.idempotency_key != second.idempotency_key
    assert len(first.idempotency_key) == 36 and first.idempotency_key[14] == "4"
    assert len(control.org()["charges"]) == 2


def test_an_invalid_amount_is_refused_before_anything_is_sent(control, login, fake_time):
    with pytest.raises(errors.AmountOutOfBounds):
        run(login(), fake_time, "5")
    with pytest.raises(errors.ValidationFailed):
        run(login(), fake_time, "25.001")
    assert control.journal(method="POST", path_prefix="/api/billing/charge") == []


def test_a_declined_card_fails_with_its_reason(control, login, fake_time):
    control.edit_org(card={"brand": "visa", "last4": "0002"})
    result = run(login(), fake_time)
    assert (result.outcome, result.reason, result.credited) == ("failed", "card_declined", None)
    assert Decimal(control.org()["balanceUsd"]) == Decimal("142.5")


def test_a_charge_pending_for_five_minutes_is_a_timeout_not_an_error(control, login, fake_time):
    control.script_outcome(outcome="pending")
    result = run(login(), fake_time)
    assert result.outcome == "timeout"
    assert result.charge_id is not None
    assert sum(fake_time.sleeps) == 300


def test_rate_limited_polls_back_off_by_retry_after_and_keep_polling(control, login, fake_time):
    control.fault("GET", "/api/billing/charge/*", 429, "rate_limited", retry_after=7, count=1)
    result = run(login(), fake_time)
    assert result.outcome == "settled"
    assert fake_time.sleeps == [7]  # not the usual 2 s
    assert [r["status"] for r in control.journal(method="GET", path_prefix="/api/billing/charge/")] == [429, 200]


def test_a_lost_answer_on_submit_is_retried_with_the_same_key_and_charges_once(control, login, fake_time):
    adapter = LosesAnswers(CHARGE)
    result = run(login(session=session_with(adapter)), fake_time)
    assert result.outcome == "settled"
    keys = [r.headers["Idempotency-Key"] for r in adapter.sent if r.method == "POST"]
    assert keys == [result.idempotency_key] * 2
    assert len(control.org()["charges"]) == 1
    assert Decimal(control.org()["balanceUsd"]) == Decimal("167.5")


def test_a_503_on_submit_is_retried_with_the_same_key(control, login, fake_time):
    control.fault("POST", "/api/billing/charge", 503, "temporarily_unavailable", retry_after=5, count=1)
    result = run(login(), fake_time)
    assert result.outcome == "settled"
    assert fake_time.sleeps[0] == 5
    assert [r["status"] for r in control.journal(method="POST", path_prefix="/api/billing/charge")] == [503, 202]
    assert len(control.org()["charges"]) == 1


def test_submit_gives_up_after_three_lost_answers(control, login, fake_time):
    adapter = LosesAnswers(CHARGE, lose=3)
    with pytest.raises(errors.NetworkError):
        run(login(session=session_with(adapter)), fake_time)
    assert len({r.headers["Idempotency-Key"] for r in adapter.sent if r.method == "POST"}) == 1
    assert len(control.org()["charges"]) == 1  # the portal took it once; the client may say so


def test_refusals_are_typed_errors(control, login, fake_time):
    with pytest.raises(errors.RoleRequired):
        run(login("member@acme.test"), fake_time)
    with pytest.raises(errors.BillingDisabled):
        run(login("owner@globex.test"), fake_time)
    control.edit_org(card=None)
    with pytest.raises(errors.NoPaymentMethod) as caught:
        run(login(), fake_time)
    assert caught.value.portal_url == control.url + "/billing?topup=open"


def test_without_billing_scope_and_no_one_to_approve_the_scope_error_stands(control, login, fake_time):
    with pytest.raises(errors.ScopeRequired):
        run(login(scope="inference:invoke tool:invoke"), fake_time)


def test_the_sixth_charge_in_an_hour_is_rate_limited(control, login, fake_time):
    api = login()
    for _ in range(5):
        assert run(api, fake_time, "10").outcome == "settled"
    with pytest.raises(errors.RateLimited) as caught:
        run(api, fake_time, "10")
    assert 0 < caught.value.retry_after <= 3600
