"""What the billing state shows, role by role (CONTRACT.md section 3)."""

from __future__ import annotations

from decimal import Decimal

from behave import then


def _state(context):
    return context.attempt.succeeded()


@then("she sees the balance {amount:Money} and may change the plan")
def step_she_sees_the_balance_and_may_change_the_plan(context, amount: Decimal):
    state = _state(context)
    assert (state.balance, state.can_change_plan) == (amount, True), state


@then("she sees the balance {amount:Money} but may not change the plan")
def step_she_sees_the_balance_but_may_not_change_the_plan(context, amount: Decimal):
    state = _state(context)
    assert (state.balance, state.can_change_plan) == (amount, False), state


@then("she sees the Visa card ending {last4}, a monthly cap of {limit:Money} and auto-reload off")
def step_she_sees_the_card_the_cap_and_auto_reload(context, last4: str, limit: Decimal):
    state = _state(context)
    assert state.card is not None and (state.card.brand, state.card.last4) == ("visa", last4), state.card
    assert state.monthly_cap is not None and state.monthly_cap.limit == limit, state.monthly_cap
    assert state.auto_reload is not None and not state.auto_reload.enabled, state.auto_reload


@then("she sees no card, no monthly cap and no auto-reload")
def step_she_sees_no_card_no_cap_and_no_auto_reload(context):
    state = _state(context)
    assert (state.card, state.monthly_cap, state.auto_reload) == (None, None, None), state
