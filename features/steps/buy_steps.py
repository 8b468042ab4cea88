"""Buying credits: the buy journey of the reference client, and what came of it."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from behave import given, then, when

from client.money import format_usd

from steps.support.scene import org_charges, she
from steps.support.terminal import attempt
from steps.support.vocabulary import money


def purchase(context, amount: Decimal, key: str | None = None) -> None:
    """Run the buy journey; remember the ledger before it, what came of it, and the charge."""
    terminal = she(context)
    context.charges_before = org_charges(context, terminal.person.org_id)
    context.attempt = attempt(lambda: terminal.buy(amount, key))
    result = context.attempt.value
    if result is not None and result.charge_id is not None:
        context.charge = (terminal, result.charge_id)


def bought(context, amount: Decimal, key: str | None = None) -> None:
    purchase(context, amount, key)
    result = context.attempt.succeeded()
    assert result.outcome == "settled", f"the purchase of {format_usd(amount)} ended {result.outcome}"


@when("she buys {amount:Money}")
def step_she_buys(context, amount):
    purchase(context, amount)


@when('she buys {amount:Money} with purchase key "{key}"')
def step_she_buys_with_purchase_key(context, amount, key):
    purchase(context, amount, key)


@given("she has bought {amount:Money}")
@given('she has bought {amount:Money} with purchase key "{key}"')
@given("she has bought {amount:Money} {count:Times}")
@given('she has bought {amount:Money} {count:Times}, the last with purchase key "{key}"')
@given("she has bought {amount:Money} {count:Times}, {gap:Duration} apart")
def step_she_has_bought(context, amount, count=1, key=None, gap=0):
    for number in range(1, count + 1):
        if number > 1 and gap:
            context.control.advance(gap)
        bought(context, amount, key if number == count else None)


@given("she has tried to buy {amount:Money}")
@given("she has tried to buy {amount:Money} {count:Times}")
def step_she_has_tried_to_buy(context, amount, count=1):
    for _ in range(count):
        purchase(context, amount)
        context.attempt.succeeded()


@given('she has tried to buy {amount:Money} and the card was declined')
def step_she_has_tried_to_buy_and_was_declined(context, amount):
    purchase(context, amount)
    step_the_purchase_fails_because(context, "card_declined")


@given("she has submitted a purchase of {amount:Money} without waiting for it")
@when("she submits a purchase of {amount:Money} without waiting for it")
def step_she_submits_a_purchase_without_waiting(context, amount):
    terminal = she(context)
    context.charge = (terminal, terminal.submit(amount, str(uuid.uuid4())).charge_id)


@then("the purchase settles for {amount:Money}")
def step_the_purchase_settles_for(context, amount):
    result = context.attempt.succeeded()
    assert result.outcome == "settled", f"the purchase ended {result.outcome} ({result.reason or result.scope})"
    assert result.credited == amount, f"{format_usd(result.credited)} was credited"


@then("the purchase settles for {amount:Money} as a replay of her earlier charge")
def step_the_purchase_settles_as_a_replay(context, amount):
    step_the_purchase_settles_for(context, amount)
    answer = she(context).wire.to("POST", "/api/billing/charge")[-1]
    assert answer.headers.get("Idempotent-Replayed") == "true", answer.headers
    assert context.attempt.succeeded().charge_id == context.charges_before[-1]["id"], "a new charge was created"


@then('the purchase fails because "{reason}"')
def step_the_purchase_fails_because(context, reason):
    result = context.attempt.succeeded()
    assert (result.outcome, result.reason) == ("failed", reason), (result.outcome, result.reason)


@then('the purchase is refused with "{error}"')
@then('the auto-reload change is refused with "{error}"')
@then('the preview is refused with "{error}"')
@then('the change is refused with "{error}"')
@then('the upgrade is refused with "{error}"')
@then('her question is refused with "{error}"')
def step_it_is_refused_with(context, error):
    refusal = context.attempt.refused()
    assert refusal.error == error, f"refused with {refusal.error}: {refusal.message}"


@then('she is pointed to the portal at "{link}"')
def step_she_is_pointed_to_the_portal_at(context, link):
    portal_url = context.attempt.refused().portal_url
    assert portal_url == context.base_url + link, portal_url


@then('the refusal says {field} is "{value}"')
def step_the_refusal_says(context, field, value):
    payload = context.attempt.refused().payload
    assert payload.get(field) == value, f"{field} is {payload.get(field)!r} in {payload}"


@then("she is told {amount:Money} remains this month, under {default_ceiling:Cap}")
def step_she_is_told_what_remains_this_month(context, amount, default_ceiling):
    payload = context.attempt.refused().payload
    assert Decimal(payload["remainingUsd"]) == amount, payload
    assert payload["isDefaultCeiling"] is default_ceiling, payload


@then("her balance is {amount:Money}")
def step_her_balance_is(context, amount):
    balance = she(context).api.state().balance
    assert balance == amount, f"her balance is {format_usd(balance)}"


@then("nothing was charged")
def step_nothing_was_charged(context):
    new = org_charges(context, she(context).person.org_id)[len(context.charges_before):]
    assert not new, f"new charges: {new}"


@then("her terminal sent no purchase to the portal")
def step_her_terminal_sent_no_purchase(context):
    assert not she(context).wire.to("POST", "/api/billing/charge")


@then("the org has exactly one settled charge of {amount:Money}")
@then("the org has exactly {count:d} settled charges of {amount:Money}")
def step_the_org_has_exactly_settled_charges(context, amount, count=1):
    charges = org_charges(context)
    assert [(c["status"], Decimal(c["amountUsd"])) for c in charges] == [("settled", amount)] * count, charges


@then("the org has no settled charge")
def step_the_org_has_no_settled_charge(context):
    settled = [c for c in org_charges(context) if c["status"] == "settled"]
    assert not settled, settled


@then("she is offered the presets {presets}")
def step_she_is_offered_the_presets(context, presets):
    offered = list(context.attempt.succeeded().presets)
    assert offered == [money(p) for p in re.split(r", | and ", presets)], offered


@then("she may buy between {low:Money} and {high:Money}")
def step_she_may_buy_between(context, low, high):
    state = context.attempt.succeeded()
    assert (state.min_usd, state.max_usd) == (low, high), (state.min_usd, state.max_usd)
