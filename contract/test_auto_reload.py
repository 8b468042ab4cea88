"""Auto-reload (CONTRACT.md section 5), at its edges: a usage debit that leaves the balance
below the threshold (not at it) reloads, up to the reload-to balance rounded up to the cent,
and never past what the month's cap has left."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.profiles import examples
from contract.world import ACME, world

pytestmark = pytest.mark.control

CENT = Decimal("0.01")
cents = st.integers(min_value=1, max_value=5_000).map(lambda n: Decimal(n) / 100)


def reloads(portal) -> list[dict]:
    return [c for c in portal.org(ACME)["charges"] if c["source"] == "auto_reload"]


def configure(portal, threshold: Decimal, reload_to: Decimal, cap: str = "1000000") -> str:
    portal.reset(world(monthlyCapUsd=cap, balanceUsd="500"))
    token = portal.access_token()
    body = f'{{"enabled": true, "threshold": {threshold}, "topUpAmount": {reload_to}}}'
    assert portal.auto_top_up(token, body).status_code == 200
    return token


@settings(max_examples=examples(1))
@given(threshold=st.integers(min_value=10, max_value=200).map(Decimal), above=cents, under=cents,
       extra=st.integers(min_value=1, max_value=500).map(Decimal))
@example(threshold=Decimal(20), above=Decimal("0.01"), under=Decimal("0.01"), extra=Decimal(80))
def test_a_debit_to_the_threshold_does_not_reload_and_one_below_it_does(portal, threshold, above, under, extra):
    reload_to = threshold + extra
    configure(portal, threshold, reload_to)
    portal.edit_org(ACME, balanceUsd=str(threshold + above))
    portal.debit_usage(ACME, above)  # the balance is exactly the threshold now
    assert reloads(portal) == [], "a balance at the threshold reloaded"
    portal.debit_usage(ACME, under)
    balance = threshold - under
    note(f"threshold {threshold}, reload to {reload_to}, balance {balance}")
    assert [Decimal(c["amountUsd"]) for c in reloads(portal)] == [(reload_to - balance).quantize(CENT, ROUND_UP)]


@settings(max_examples=examples(1))
@given(headroom=cents, spent=st.integers(min_value=100, max_value=900).map(Decimal))
@example(headroom=Decimal("0.01"), spent=Decimal(100))
def test_a_reload_never_passes_the_months_cap(portal, headroom, spent):
    token = configure(portal, Decimal(20), Decimal(1000), cap=str(spent + headroom))
    assert portal.charge(token, str(spent), "fill-the-month").status_code == 202
    portal.edit_org(ACME, balanceUsd="25")
    portal.debit_usage(ACME, Decimal(10))  # balance 15 wants 985; the month has `headroom` left
    assert [Decimal(c["amountUsd"]) for c in reloads(portal)] == [headroom]
    assert Decimal(portal.org(ACME)["spentThisMonthUsd"]) == spent + headroom
