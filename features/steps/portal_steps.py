"""The world between the terminal and the portal: time passing, a busy portal, a lossy network."""

from __future__ import annotations

from behave import given, then, when

from steps.support.scene import she


@given("the portal clock moves on {seconds:Duration}")
@when("the portal clock moves on {seconds:Duration}")
def step_the_portal_clock_moves_on(context, seconds):
    context.control.advance(seconds)


@given('the portal will answer the next {count:d} {requests:Requests} with {status:d} "{error}" '
       'and Retry-After {seconds:d}')
def step_the_portal_will_answer_the_next_requests_with(context, count, requests, status, error, seconds):
    method, path = requests
    context.control.fault(method, path, status, error, retry_after=seconds, count=count)


@given("the network will lose the portal's answer to her next purchase")
def step_the_network_will_lose_the_answer_to_her_next_purchase(context):
    she(context).wire.lose_next_answer("POST", "/api/billing/charge")


@then('her terminal saw {count:d} answers {status:d} "{error}"')
def step_her_terminal_saw_answers(context, count, status, error):
    seen = [e for e in she(context).wire.exchanges if (e.status, e.error) == (status, error)]
    assert len(seen) == count, f"her terminal saw {len(seen)}"


@then("her terminal waited {seconds:d} seconds before each of {count:d} retries")
def step_her_terminal_waited_before_each_retry(context, seconds, count):
    assert context.time.sleeps.count(seconds) == count, f"her terminal slept {context.time.sleeps}"
