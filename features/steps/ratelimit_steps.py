"""Retry-After, read against the portal's own ledger and clock."""

from __future__ import annotations

import math
from datetime import datetime

from behave import then, when

from steps.support.scene import org_charges

HOUR = 3600


def retry_after(context) -> int:
    after = context.attempt.refused().retry_after
    assert after is not None, "the refusal carried no Retry-After"
    return after


@then("Retry-After is the time until her first purchase of the hour is an hour old")
def step_retry_after_is_the_time_until_the_first_purchase_is_an_hour_old(context):
    first = datetime.fromisoformat(org_charges(context)[0]["createdAt"].replace("Z", "+00:00")).timestamp()
    expected = math.ceil(first + HOUR - context.control.now())
    assert retry_after(context) == expected, f"Retry-After {retry_after(context)}, expected {expected}"


@then("Retry-After is {seconds:Duration}")
def step_retry_after_is(context, seconds):
    assert retry_after(context) == seconds, f"Retry-After {retry_after(context)}"


@when("the portal clock moves on to one second before that")
def step_the_portal_clock_moves_on_to_one_second_before_that(context):
    context.control.advance(retry_after(context) - 1)
