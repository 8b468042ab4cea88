"""The org behind the terminal, as its admins (through the portal's control plane) set it up."""

from __future__ import annotations

from behave import given, when

from client.money import to_json_number

from steps.support.scene import log_in, she
from steps.support.vocabulary import BILLING_SCOPE, PEOPLE, THE_ORG


def save_visa(context, last4: str) -> None:
    context.control.edit_org(THE_ORG, card={"brand": "visa", "last4": last4})


@given("an org with a saved Visa card")
def step_an_org_with_a_saved_visa_card(context):
    save_visa(context, "4242")


@given("an owner of an org with a saved Visa card")
def step_an_owner_of_an_org_with_a_saved_visa_card(context):
    save_visa(context, "4242")
    log_in(context, PEOPLE["the owner"], BILLING_SCOPE)


@given("the saved card is a Visa ending {last4:d}")
def step_the_saved_card_is_a_visa_ending(context, last4):
    save_visa(context, f"{last4:04d}")


@given("the org has no saved card")
def step_the_org_has_no_saved_card(context):
    context.control.edit_org(THE_ORG, card=None)


@given("the org's balance is {amount:Money}")
def step_the_orgs_balance_is(context, amount):
    context.control.edit_org(THE_ORG, balanceUsd=to_json_number(amount))


@given("the org's monthly cap is {amount:Money}")
def step_the_orgs_monthly_cap_is(context, amount):
    context.control.edit_org(THE_ORG, monthlyCapUsd=to_json_number(amount))


@given('an admin has turned off "Allow terminal billing" for the org')
@when('an admin turns off "Allow terminal billing" for the org')
def step_an_admin_turns_off_terminal_billing(context):
    context.control.edit_org(THE_ORG, cliBillingEnabled=False)


@given("her role has been changed to {role:Role}")
def step_her_role_has_been_changed_to(context, role):
    context.control.edit_user(she(context).person.email, role=role)


@given("the org's next charge will stay pending forever")
def step_the_orgs_next_charge_will_stay_pending_forever(context):
    context.control.script_outcome(THE_ORG, outcome="pending")


@given("the org's next charge will settle after {seconds:Duration}")
def step_the_orgs_next_charge_will_settle_after(context, seconds):
    context.control.script_outcome(THE_ORG, outcome="settle", after_seconds=seconds)


@when("the org uses {amount:Money} of inference")
def step_the_org_uses_inference(context, amount):
    context.control.debit_usage(THE_ORG, to_json_number(amount))
