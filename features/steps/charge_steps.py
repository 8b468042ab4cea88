"""One charge as the terminal polls it, as the portal's ledger holds it, and as others see it."""

from __future__ import annotations

from behave import then, when

from client.billing import ChargeStatus

from steps.support.scene import org_charges, she
from steps.support.terminal import attempt


def status_to_its_own_org(context) -> ChargeStatus:
    terminal, charge_id = context.charge
    return terminal.api.charge_status(charge_id)


@when('she asks the portal about the charge "{charge_id}"')
def step_she_asks_the_portal_about_the_charge(context, charge_id):
    context.attempt = attempt(lambda: she(context).api.charge_status(charge_id))


@when("she asks the portal about that charge")
def step_she_asks_the_portal_about_that_charge(context):
    _, charge_id = context.charge
    step_she_asks_the_portal_about_the_charge(context, charge_id)


@then("the answer is pending and nothing more")
def step_the_answer_is_pending_and_nothing_more(context):
    status = context.attempt.succeeded()
    assert status == ChargeStatus("pending"), status
    answer = she(context).wire.to("GET", "/api/billing/charge/")[-1]
    assert (answer.status, answer.body) == (200, {"status": "pending"}), (answer.status, answer.body)


@then("the charge reads as pending")
def step_the_charge_reads_as_pending(context):
    assert status_to_its_own_org(context) == ChargeStatus("pending"), status_to_its_own_org(context)


@then("the charge reads as settled for {amount:Money}")
@then("to its own org the charge still reads as settled for {amount:Money}")
def step_the_charge_reads_as_settled_for(context, amount):
    status = status_to_its_own_org(context)
    assert (status.status, status.amount) == ("settled", amount), status
    assert status.settled_at, status


@then('to its own org the charge still reads as failed with "{reason}"')
def step_the_charge_still_reads_as_failed_with(context, reason):
    status = status_to_its_own_org(context)
    assert (status.status, status.reason) == ("failed", reason), status


@then("her terminal reports a timeout after {seconds:Duration} of portal time")
def step_her_terminal_reports_a_timeout_after(context, seconds):
    result = context.attempt.succeeded()
    assert result.outcome == "timeout", result
    assert sum(context.time.sleeps) == seconds, f"her terminal waited {sum(context.time.sleeps)} s"


@then("her terminal polled the charge every 2 seconds")
def step_her_terminal_polled_the_charge_every_2_seconds(context):
    polls = she(context).wire.to("GET", "/api/billing/charge/")
    assert set(context.time.sleeps) == {2}, set(context.time.sleeps)
    assert len(polls) == len(context.time.sleeps) + 1, f"{len(polls)} polls, {len(context.time.sleeps)} waits"


@then("the charge is still pending at the portal")
def step_the_charge_is_still_pending_at_the_portal(context):
    _, charge_id = context.charge
    [charge] = [c for c in org_charges(context) if c["id"] == charge_id]
    assert charge["status"] == "pending", charge
