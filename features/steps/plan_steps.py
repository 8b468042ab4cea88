"""Her plan (CONTRACT.md section 7): reading it, previewing a change, scheduling a downgrade or
a cancellation and taking it back, and the cycle renewing on the portal clock."""

from __future__ import annotations

import re
from decimal import Decimal

from behave import given, then, when

from client.billing import PendingChange, Preview, Subscription
from client.money import format_usd, to_json_number

from steps.support.plans import CYCLE, NAMES, act, current, cycle_end, epoch, her_org, her_report
from steps.support.scene import org_charges, she
from steps.support.vocabulary import PLANS


def read_plan(context) -> Subscription:
    return context.attempt.succeeded()


def catalogue(text: str) -> list[tuple[str, Decimal]]:
    """`Free at $0, Basic at $10 and Max at $100` as names and monthly prices."""
    offers = re.split(r", | and ", text.removesuffix(" a month")) if text else []
    return [(name, Decimal(price)) for name, price in (offer.split(" at $") for offer in offers)]


# -- her plan, as the portal's admin sets it up --------------------------------------------------
@given("her plan is {plan:Plan}")
def step_her_plan_is(context, plan):
    context.control.edit_plan(her_org(context), tierId=plan)


@given("she has no plan")
def step_she_has_no_plan(context):
    context.control.edit_org(her_org(context), subscription=None)


@given("her plan has {grant:Money} of grant and {rollover:Money} of rollover left this cycle")
def step_her_plan_has_grant_and_rollover(context, grant, rollover):
    context.control.edit_plan(her_org(context), creditsRemaining=to_json_number(grant),
                              rolloverCredits=to_json_number(rollover))


@given("her grant is {debt:Money} in debt and she has {rollover:Money} of rollover")
def step_her_grant_is_in_debt(context, debt, rollover):
    context.control.edit_plan(her_org(context), creditsRemaining=to_json_number(-debt),
                              rolloverCredits=to_json_number(rollover))


@given("her cycle has {left:Duration} left")
def step_her_cycle_has_left(context, left):
    context.control.advance(cycle_end(context) - context.control.now() - left)


@given("her saved card is a Visa ending {last4:d}")
def step_her_saved_card_is(context, last4):
    context.control.edit_org(her_org(context), card={"brand": "visa", "last4": f"{last4:04d}"})


@given("her card has been removed")
def step_her_card_has_been_removed(context):
    context.control.edit_org(her_org(context), card=None)


@given("her monthly cap is {amount:Money}")
def step_her_monthly_cap_is(context, amount):
    context.control.edit_org(her_org(context), monthlyCapUsd=to_json_number(amount))


@given("her purchased balance is {amount:Money}")
def step_her_purchased_balance_is(context, amount):
    context.control.edit_org(her_org(context), balanceUsd=to_json_number(amount))


@given("the payment processor is down")
def step_the_payment_processor_is_down(context):
    context.control.stripe(False)


@when("the payment processor is back")
def step_the_payment_processor_is_back(context):
    context.control.stripe(True)


# -- what she does ---------------------------------------------------------------------------------
@when("she reads her plan")
def step_she_reads_her_plan(context):
    act(context, she(context).plan)


@when("she previews a move to {plan:Plan}")
@when('she previews a move to the plan "{plan}"')
def step_she_previews_a_move_to(context, plan):
    act(context, lambda: she(context).preview(plan))


@given("she has scheduled a move to {plan:Plan}")
@when("she schedules a move to {plan:Plan}")
@when('she schedules a move to the plan "{plan}"')
def step_she_schedules_a_move_to(context, plan):
    act(context, lambda: she(context).schedule_change(plan))


@given("she has made no change")
def step_she_has_made_no_change(context):
    step_nothing_is_waiting(context)


@given("she has cancelled her plan")
@when("she cancels her plan")
def step_she_cancels_her_plan(context):
    act(context, she(context).cancel_plan)


@when("she takes back the scheduled change")
def step_she_takes_back_the_scheduled_change(context):
    act(context, she(context).resume_plan)


@when("the portal clock moves to the end of her cycle")
@when("the portal clock moves on to the end of her cycle")
def step_the_portal_clock_moves_to_the_end_of_her_cycle(context):
    step_the_portal_clock_moves_past_ends_of_her_cycle(context, 1)


@when("the portal clock moves to one second before the end of her cycle")
def step_the_portal_clock_moves_to_one_second_before_the_end(context):
    context.cycle_end = cycle_end(context)
    context.control.advance(context.cycle_end - context.control.now() - 1)


@when("the portal clock moves past {count:d} ends of her cycle")
def step_the_portal_clock_moves_past_ends_of_her_cycle(context, count):
    """To the instant her cycle ends, then on by whole cycles: `count` renewals fall due."""
    context.charges_before = org_charges(context, her_org(context))
    context.cycle_end = cycle_end(context)
    context.renewals = count
    context.control.advance(context.cycle_end - context.control.now() + (count - 1) * CYCLE)


# -- her plan, as her terminal reads it ------------------------------------------------------------
@then("she is on {plan:Plan} with {left:Money} left this cycle")
def step_she_is_on_with_left(context, plan, left):
    now = current(context)
    assert (now.tier_id, now.tier_name) == (plan, NAMES[plan]), now
    assert now.credits_remaining == left, f"{format_usd(now.credits_remaining)} left"


@then("she is on {plan:Plan} with {grant:Money} of grant and {rollover:Money} of rollover")
def step_she_is_on_with_grant_and_rollover(context, plan, grant, rollover):
    step_she_is_on_with_left(context, plan, grant + rollover)
    kept = her_report(context)["subscription"]
    assert (Decimal(kept["creditsRemaining"]), Decimal(kept["rolloverCredits"])) == (grant, rollover), kept


@then("she is still on {plan:Plan}")
def step_she_is_still_on(context, plan):
    assert current(context).tier_id == plan, current(context)


@then("her cycle ends {days:Duration} from now")
def step_her_cycle_ends_from_now(context, days):
    ends = epoch(current(context).cycle_ends_at)
    assert ends == context.control.now() + days, f"it ends at {current(context).cycle_ends_at}"


@then("her next cycle ends 30 days after the last one")
def step_her_next_cycle_ends_30_days_later(context):
    ends = epoch(current(context).cycle_ends_at)
    assert ends == context.cycle_end + context.renewals * CYCLE, current(context).cycle_ends_at


@then("nothing is waiting for the end of her cycle")
def step_nothing_is_waiting(context):
    now = current(context)
    assert (now.pending_tier_name, now.pending_at, now.cancel_at_period_end, now.cancellation_effective_at) == \
        (None, None, False, None), now


@then("her plan shows a move to {plan:Plan} at the end of her cycle")
def step_her_plan_shows_a_move(context, plan):
    now = current(context)
    assert (now.pending_tier_name, now.pending_at) == (NAMES[plan], now.cycle_ends_at), now
    assert not now.cancel_at_period_end, now


@then("her plan shows it ends at the end of her cycle")
def step_her_plan_shows_it_ends(context):
    now = current(context)
    assert (now.cancel_at_period_end, now.cancellation_effective_at) == (True, now.cycle_ends_at), now
    assert now.pending_tier_name is None, now


@then("she has no plan")
def step_she_has_no_plan_then(context):
    plan = she(context).plan()
    assert (plan.context, plan.current) == ("personal", None), plan


@then("her purchased balance is still {amount:Money}")
@then("her purchased balance is {amount:Money}")
def step_her_purchased_balance_is_then(context, amount):
    balance = she(context).api.state().balance
    assert balance == amount, f"her purchased balance is {format_usd(balance)}"


@then("the plans on offer are {offer}")
@then("no plans are on offer")
def step_the_plans_on_offer_are(context, offer=""):
    tiers = read_plan(context).tiers
    expected = catalogue(offer)
    assert [(tier.name, tier.price) for tier in tiers] == expected, [(t.name, t.price) for t in tiers]
    assert all(PLANS[tier.name] == tier.tier_id for tier in tiers), tiers


@then("{plan:Plan} is marked as her current plan")
def step_is_marked_as_her_current_plan(context, plan):
    marked = [tier.tier_id for tier in read_plan(context).tiers if tier.is_current]
    assert marked == [plan], marked


@then("she is told her org is a team, with no plan")
def step_she_is_told_her_org_is_a_team(context):
    plan = read_plan(context)
    assert (plan.context, plan.current) == ("team", None), plan


@then("she is pointed to the portal to start a subscription")
def step_she_is_pointed_to_start_a_subscription(context):
    plan = read_plan(context)
    assert plan.manage_url == f"{context.base_url}/manage-subscription?org_id={plan.org_id}", plan.manage_url


# -- previews ----------------------------------------------------------------------------------------
def preview(context) -> Preview:
    return context.attempt.succeeded()


@then("the preview charges {cents:d} cents now")
def step_the_preview_charges_cents_now(context, cents):
    quote = preview(context)
    assert (quote.effect, quote.amount_due_now_cents, quote.effective_at) == ("charge_now", cents, None), quote


@then("the preview charges now, without a quote")
def step_the_preview_charges_now_without_a_quote(context):
    quote = preview(context)
    assert (quote.effect, quote.amount_due_now_cents) == ("charge_now", None), quote


@then("the preview schedules the move for the end of her cycle")
def step_the_preview_schedules_the_move(context):
    quote = preview(context)
    assert (quote.effect, quote.amount_due_now_cents) == ("scheduled", None), quote
    assert quote.effective_at == current(context).cycle_ends_at, quote


@then("the preview changes nothing")
def step_the_preview_changes_nothing(context):
    quote = preview(context)
    assert (quote.effect, quote.amount_due_now_cents, quote.reason) == ("no_op", None, None), quote


@then('the preview is blocked, saying "{words}"')
def step_the_preview_is_blocked_saying(context, words):
    quote = preview(context)
    assert (quote.effect, quote.amount_due_now_cents) == ("blocked", None), quote
    assert words in (quote.reason or ""), quote.reason


@then("the monthly usage included changes by {delta}")
def step_the_monthly_usage_changes_by(context, delta):
    assert preview(context).monthly_credits_delta == Decimal(delta.replace("$", "")), preview(context)


@then("the preview names {current_plan:Plan} and {target:Plan}")
def step_the_preview_names(context, current_plan, target):
    quote = preview(context)
    assert (quote.current_tier_id, quote.current_tier_name) == (current_plan, NAMES[current_plan]), quote
    assert (quote.target_tier_id, quote.target_tier_name) == (target, NAMES[target]), quote


# -- the scheduled change --------------------------------------------------------------------------
def change(context) -> PendingChange:
    return context.attempt.succeeded()


@then("she is told she moves to {target:Plan} at the end of her cycle and keeps {plan:Plan} until then")
def step_she_is_told_she_moves(context, target, plan):
    told = change(context)
    assert (told.target_tier_name, told.effective_at) == (NAMES[target], current(context).cycle_ends_at), told
    assert NAMES[target] in told.message and NAMES[plan] in told.message, told.message


@then("she is told {plan:Plan} ends at the end of her cycle and will not renew")
def step_she_is_told_it_ends(context, plan):
    told = change(context)
    assert (told.cancel_at_period_end, told.effective_at) == (True, current(context).cycle_ends_at), told
    assert NAMES[plan] in told.message, told.message


@then("she is told {plan:Plan} renews at the end of her cycle")
def step_she_is_told_it_renews(context, plan):
    told = change(context)
    assert told.cancel_at_period_end is False, told
    assert NAMES[plan] in told.message and current(context).cycle_ends_at[:10] in told.message, told.message
