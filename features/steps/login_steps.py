"""Who is logged in at which terminal, and what their login is worth to the portal."""

from __future__ import annotations

import jwt
from behave import given, then, when

from client.cli import LOGIN, NEXT_STEPS
from client.config import BILLING_MANAGE, LOGIN_SCOPE
from client.credentials import Credentials

from steps.support.scene import enter, log_in, she
from steps.support.terminal import attempt
from steps.support.vocabulary import BILLING_SCOPE, PEOPLE

# CONTRACT.md section 6: access tokens live an hour (expires_in: 3600).
ACCESS_TOKEN_SECONDS = 3600
# Errors after which only a new login helps; the client's next step for each says to log in.
LOG_IN_AGAIN = ("invalid_token", "session_revoked", "invalid_grant", "refresh_token_reused")


def re_signed(access_token: str) -> str:
    """The same claims (user, org, scope, expiry, token id) signed with a key the portal never had."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    return jwt.encode(claims, "someone else's key, long enough for HS256", algorithm="HS256")


@given("{who:Person} is logged in with terminal billing")
def step_person_is_logged_in_with_terminal_billing(context, who):
    log_in(context, who, BILLING_SCOPE)


@given("{who:Person} is logged in without terminal billing")
def step_person_is_logged_in_without_terminal_billing(context, who):
    log_in(context, who, LOGIN_SCOPE)


@given("her login does not include terminal billing")
def step_her_login_does_not_include_terminal_billing(context):
    log_in(context, she(context).person, LOGIN_SCOPE)


@given("the owner's terminal is not logged in")
def step_the_owners_terminal_is_not_logged_in(context):
    enter(context, PEOPLE["the owner"]).store.clear()


@given("someone has re-signed her access token with another key, and dropped her refresh token")
def step_someone_has_re_signed_her_access_token(context):
    login = she(context).credentials
    she(context).store.save(Credentials(re_signed(login.access_token), None, login.scope))


@given("the owner's terminal holds a string that is not an access token and no refresh token")
def step_the_owners_terminal_holds_a_string_that_is_not_a_token(context):
    enter(context, PEOPLE["the owner"]).store.save(Credentials("not-an-access-token", None, BILLING_SCOPE))


@given("her access token has expired")
def step_her_access_token_has_expired(context):
    context.login_before = she(context).credentials
    context.control.advance(ACCESS_TOKEN_SECONDS + 1)


@given("her session has been revoked in the portal")
def step_her_session_has_been_revoked_in_the_portal(context):
    context.control.revoke("session", she(context).credentials.access_token)


@given("an admin has revoked her terminal spending")
def step_an_admin_has_revoked_her_terminal_spending(context):
    context.control.revoke("spending", she(context).credentials.access_token, actor="admin")


@given("she has revoked her own terminal spending")
def step_she_has_revoked_her_own_terminal_spending(context):
    context.control.revoke("spending", she(context).credentials.access_token, actor="self")


@when("she opens her billing state")
def step_she_opens_her_billing_state(context):
    context.attempt = attempt(she(context).api.state)


@when("her terminal asks for the billing state without a token")
def step_her_terminal_asks_for_the_billing_state_without_a_token(context):
    transport = she(context).session.transport
    context.attempt = attempt(lambda: transport.request("GET", "/api/billing/state"))


@then('the portal answered {status:d} "{error}"')
def step_the_portal_answered(context, status, error):
    answers = [(e.status, e.error) for e in she(context).wire.exchanges if e.path.startswith("/api/billing/")]
    assert (status, error) in answers, f"the portal's billing answers were {answers}"


@then("she is told to log in again")
def step_she_is_told_to_log_in_again(context):
    error = context.attempt.refused()
    assert error.error in LOG_IN_AGAIN, f"she was told {error.error}: {error.message}"
    assert LOGIN in NEXT_STEPS[error.error], NEXT_STEPS[error.error]


@then("her terminal sent nothing to the portal")
def step_her_terminal_sent_nothing_to_the_portal(context):
    sent = [(e.method, e.path) for e in she(context).wire.exchanges]
    assert not sent, f"her terminal sent {sent}"


@then("her terminal renewed its login once, with a new refresh token")
def step_her_terminal_renewed_its_login_once(context):
    renewals = she(context).wire.to("POST", "/api/oauth/token")
    assert [e.status for e in renewals] == [200], [(e.status, e.body) for e in renewals]
    before, after = context.login_before, she(context).credentials
    assert after.access_token != before.access_token, "the access token was not replaced"
    assert after.refresh_token not in (None, before.refresh_token), "the refresh token was not rotated"


@then("her terminal did not try to renew its login")
def step_her_terminal_did_not_try_to_renew_its_login(context):
    renewals = she(context).wire.to("POST", "/api/oauth/token")
    assert not renewals, f"her terminal tried {len(renewals)} renewals"


@then("her login now includes terminal billing")
def step_her_login_now_includes_terminal_billing(context):
    assert she(context).credentials.can_bill, she(context).credentials.scope


@then('her login holds only "{scope}"')
def step_her_login_holds_only(context, scope):
    assert set(she(context).credentials.scopes) == set(scope.split()), she(context).credentials.scope


@then("she is still logged in without terminal billing")
def step_she_is_still_logged_in_without_terminal_billing(context):
    credentials = she(context).credentials
    assert credentials is not None and BILLING_MANAGE not in credentials.scopes, credentials
