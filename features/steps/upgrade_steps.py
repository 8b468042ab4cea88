"""The upgrade journey of the reference client (CONTRACT.md section 7): preview, confirm, one
idempotency key, the card's answer, and what the portal charged for it."""

from __future__ import annotations

import math
from decimal import Decimal

from behave import given, then, when

from client.journeys import UpgradeResult

from steps.support.plans import DAY, NAMES, act, current, her_org
from steps.support.scene import org_charges, she
from steps.support.terminal import Terminal

UPGRADE_PATH = "/api/billing/subscription/upgrade"


def upgrade_result(context) -> UpgradeResult:
    return context.attempt.succeeded()


def upgrades_sent(context) -> list:
    return she(context).wire.to("POST", UPGRADE_PATH)


def upgrade_to(context, plan: str, key: str | None = None) -> None:
    terminal = she(context)
    terminal.quotes.clear()
    act(context, lambda: terminal.upgrade(plan, key))


@given("she will not confirm the quote")
def step_she_will_not_confirm_the_quote(context):
    she(context).on_quote = lambda quote: False


@given("while she reads the quote, her other terminal tries the upgrade to {plan:Plan} once more")
def step_her_other_terminal_tries_meanwhile(context, plan):
    terminal = she(context)
    answer = terminal.on_quote

    def elsewhere_first(preview) -> bool:
        terminal.on_quote = answer  # only this once
        other = Terminal(terminal.person, context.base_url, context.home / "other-terminal", context.time)
        try:
            other.log_in(context.control.token(terminal.person.email))
            assert other.upgrade(plan).outcome != "upgraded", "her other terminal upgraded"
        finally:
            other.close()
        return answer(preview)

    terminal.on_quote = elsewhere_first


@given("the network will lose the portal's answer to her next upgrade")
def step_the_network_will_lose_the_answer_to_her_next_upgrade(context):
    she(context).wire.lose_next_answer("POST", UPGRADE_PATH)


@given("she has tried to upgrade to {plan:Plan} {count:Times}")
def step_she_has_tried_to_upgrade(context, plan, count):
    for _ in range(count):
        upgrade_to(context, plan)
        assert upgrade_result(context).outcome in ("requires_action", "payment_failed"), upgrade_result(context)


@given("she has tried to upgrade to {plan:Plan} {count:Times} today, declined each time")
def step_she_has_tried_to_upgrade_declined(context, plan, count):
    context.control.edit_org(her_org(context), card={"brand": "visa", "last4": "0002"})
    step_she_has_tried_to_upgrade(context, plan, count)


@given('she has upgraded to {plan:Plan} with upgrade key "{key}"')
def step_she_has_upgraded_with_key(context, plan, key):
    upgrade_to(context, plan, key)
    assert upgrade_result(context).outcome == "upgraded", upgrade_result(context)


@when("she upgrades to {plan:Plan}")
@when('she upgrades to {plan:Plan} with upgrade key "{key}"')
def step_she_upgrades_to(context, plan, key=None):
    upgrade_to(context, plan, key)


@when('she sends the upgrade to {plan:Plan} again with upgrade key "{key}"')
def step_she_sends_the_upgrade_again(context, plan, key):
    act(context, lambda: she(context).send_upgrade(plan, key))


@when("she waits out the Retry-After")
def step_she_waits_out_the_retry_after(context):
    """Her terminal's sleep, which moves the portal clock."""
    context.time.sleep(context.attempt.refused().retry_after)


@when("her saved card is a Visa ending {last4:d}")
def step_her_saved_card_becomes(context, last4):
    context.control.edit_org(her_org(context), card={"brand": "visa", "last4": f"{last4:04d}"})


@then("she was quoted {cents:d} cents and confirmed")
@then("she was quoted no amount and confirmed")
def step_she_was_quoted(context, cents=None):
    [quote] = she(context).quotes
    assert (quote.effect, quote.amount_due_now_cents) == ("charge_now", cents), quote


@then("she is upgraded to {plan:Plan}")
@then("she is upgraded to {plan:Plan}, charged {amount:Money}")
def step_she_is_upgraded_to(context, plan, amount=None):
    result = upgrade_result(context)
    assert result.outcome == "upgraded", result
    assert (result.answer.target_tier_id, result.answer.target_tier_name) == (plan, NAMES[plan]), result.answer
    if amount is not None:
        assert result.answer.amount_charged_cents == amount * 100, result.answer
        assert result.preview.amount_due_now_cents == amount * 100, result.preview
    assert current(context).tier_id == plan, current(context)


@then("her terminal saw her on {plan:Plan} with {left:Money} left this cycle on its first read after the upgrade")
def step_her_terminal_saw_her_on(context, plan, left):
    shown = upgrade_result(context).plan.current
    assert (shown.tier_id, shown.credits_remaining) == (plan, left), shown
    assert context.time.sleeps == [], f"her terminal waited {context.time.sleeps} for the plan to show"


@then("her terminal sent one upgrade, with a fresh idempotency key")
def step_her_terminal_sent_one_upgrade(context):
    sent = upgrades_sent(context)
    assert len(sent) == 1, [(e.status, e.body) for e in sent]
    assert sent[0].request_headers["Idempotency-Key"] == upgrade_result(context).idempotency_key
    assert len(sent[0].request_headers["Idempotency-Key"]) == 36, sent[0].request_headers  # a UUID


@then("the upgrade was not sent")
def step_the_upgrade_was_not_sent(context):
    assert not upgrades_sent(context), [(e.status, e.body) for e in upgrades_sent(context)]


@then('she is not offered the upgrade, because the preview says "{effect}"')
def step_she_is_not_offered_the_upgrade(context, effect):
    result = upgrade_result(context)
    assert (result.outcome, result.preview.effect) == ("not_offered", effect), result


@then("the org was charged exactly once: a settled upgrade charge of {amount:Money}")
def step_the_org_was_charged_exactly_once(context, amount):
    charges = org_charges(context, her_org(context))
    assert [(c["source"], c["status"], Decimal(c["amountUsd"])) for c in charges] == [("upgrade", "settled", amount)], \
        charges


@then('the upgrade ends "{status}" because "{reason}"')
def step_the_upgrade_ends(context, status, reason):
    result = upgrade_result(context)
    assert (result.outcome, result.answer.reason) == (status, reason), result


@then('she is pointed to finish on the portal at "{path}"')
def step_she_is_pointed_to_finish_on_the_portal(context, path):
    assert upgrade_result(context).answer.recovery_url == context.base_url + path, upgrade_result(context).answer


@then("she is told her card may or may not have been charged")
def step_she_is_told_maybe_charged(context):
    assert upgrade_result(context).outcome == "maybe_charged", upgrade_result(context)


@then("the portal answered it as a replay of the lost answer")
def step_the_portal_answered_it_as_a_replay(context):
    lost, replay = upgrades_sent(context)
    assert lost.lost and not replay.lost, (lost, replay)
    assert replay.headers.get("Idempotent-Replayed") == "true", replay.headers
    assert (replay.status, replay.body) == (lost.status, lost.body), (replay.body, lost.body)
    assert context.attempt.succeeded().replayed


@then("Retry-After is the time until the next midnight UTC")
def step_retry_after_is_the_time_until_midnight(context):
    now = context.control.now()
    assert context.attempt.refused().retry_after == math.ceil((now // DAY + 1) * DAY - now), \
        context.attempt.refused().retry_after
