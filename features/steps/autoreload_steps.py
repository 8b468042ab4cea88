"""Auto-reload: the rule she sets from the terminal, and the reload charges it makes."""

from __future__ import annotations

from decimal import Decimal

from behave import given, then, when

from client.billing import AutoReload

from steps.support.scene import org_charges, she
from steps.support.terminal import attempt


def reload_charges(context) -> list[dict]:
    return org_charges(context, source="auto_reload")


def turn_auto_reload_off(terminal) -> AutoReload:
    """As the terminal's `auto-reload --disable` does: send the amounts back as last set."""
    current = terminal.api.state().auto_reload
    return terminal.configure_auto_reload(False, current.threshold, current.reload_to)


@when("she turns auto-reload on: below {threshold:Money}, reload to {reload_to:Money}")
def step_she_turns_auto_reload_on(context, threshold, reload_to):
    context.attempt = attempt(lambda: she(context).configure_auto_reload(True, threshold, reload_to))


@given("auto-reload is on: below {threshold:Money}, reload to {reload_to:Money}")
def step_auto_reload_is_on(context, threshold, reload_to):
    she(context).configure_auto_reload(True, threshold, reload_to)


@given("she has turned auto-reload off")
@when("she turns auto-reload off")
def step_she_turns_auto_reload_off(context):
    context.attempt = attempt(lambda: turn_auto_reload_off(she(context)))
    context.attempt.succeeded()


@then("auto-reload is {state:OnOff}: below {threshold:Money}, reload to {reload_to:Money}")
def step_auto_reload_is(context, state, threshold, reload_to):
    rule = context.attempt.succeeded()
    assert rule == AutoReload(state, threshold, reload_to), rule


@then("her billing state shows auto-reload {state:OnOff}: below {threshold:Money}, reload to {reload_to:Money}")
def step_her_billing_state_shows_auto_reload(context, state, threshold, reload_to):
    shown = she(context).api.state().auto_reload
    assert shown == AutoReload(state, threshold, reload_to), shown


@then("a reload charge of {amount:Money} is pending")
def step_a_reload_charge_is_pending(context, amount):
    charges = [(c["status"], Decimal(c["amountUsd"])) for c in reload_charges(context)]
    assert charges == [("pending", amount)], charges


@then("the reload charge of {amount:Money} has settled")
def step_the_reload_charge_has_settled(context, amount):
    charges = [(c["status"], Decimal(c["amountUsd"])) for c in reload_charges(context)]
    assert charges == [("settled", amount)], charges


@then("no reload charge was made")
def step_no_reload_charge_was_made(context):
    assert not reload_charges(context), reload_charges(context)
