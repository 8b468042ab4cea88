"""What she does in her browser when her terminal asks her to approve a new login."""

from __future__ import annotations

from behave import given, then

from steps.support.scene import she


@given("she will approve the next login in her browser {allow:Tick}")
def step_she_will_approve_the_next_login(context, allow):
    terminal, control = she(context), context.control
    terminal.on_device_code = lambda code: control.approve(code.user_code, terminal.person.email, allow_billing=allow)


@given("she will approve the next login in her browser {delay:Duration} later, {allow:Tick}")
def step_she_will_approve_the_next_login_later(context, delay, allow):
    terminal, control = she(context), context.control

    def approve_later(code):
        context.time.later(delay, lambda: control.approve(code.user_code, terminal.person.email, allow_billing=allow))

    terminal.on_device_code = approve_later


@given("she will deny the next login in her browser")
def step_she_will_deny_the_next_login(context):
    control = context.control
    she(context).on_device_code = lambda code: control.deny(code.user_code)


@given("she will leave the next login unanswered for {seconds:Duration}")
def step_she_will_leave_the_next_login_unanswered(context, seconds):
    """She walks away: the portal's clock passes the code's lifetime before the terminal polls."""
    control = context.control
    she(context).on_device_code = lambda code: control.advance(seconds)


@then("she is told terminal billing was not granted")
def step_she_is_told_terminal_billing_was_not_granted(context):
    result = context.attempt.succeeded()
    assert result.outcome == "downscoped", result


@then("her terminal sent the purchase twice with the same idempotency key")
def step_her_terminal_sent_the_purchase_twice_with_the_same_key(context):
    submits = she(context).wire.to("POST", "/api/billing/charge")
    assert [(e.status, e.error) for e in submits] == [(403, "insufficient_scope"), (202, None)], \
        [(e.status, e.body) for e in submits]
    keys = {e.request_headers["Idempotency-Key"] for e in submits}
    assert len(keys) == 1, f"the held purchase was sent with the keys {keys}"


@then('the portal answered her terminal\'s login poll with "{error}"')
def step_the_portal_answered_the_login_poll_with(context, error):
    polls = she(context).wire.to("POST", "/api/oauth/token")
    assert [(e.status, e.error) for e in polls] == [(400, error)], [(e.status, e.body) for e in polls]


@then("her terminal asked every second until the login was approved, and was never told to slow down")
def step_her_terminal_asked_every_second_until_approved(context):
    polls = [(e.status, e.error) for e in she(context).wire.to("POST", "/api/oauth/token")]
    assert polls[-1] == (200, None) and set(polls[:-1]) == {(400, "authorization_pending")}, polls
    assert len(polls) >= 2 and set(context.time.sleeps[:len(polls) - 1]) == {1}, context.time.sleeps
