"""Logins and tokens (CONTRACT.md section 6), over the real device flow: a user code however it
is typed, a device code redeemed once, an access token good for exactly `expires_in` (3600 s)
and refused from its `exp` on, and single-use refresh tokens whose reuse revokes the session.
"""

from __future__ import annotations

import jwt
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.portal import bearer
from contract.profiles import examples
from contract.world import BILLING_SCOPE, OWNER, PAT_OWNER, world

pytestmark = pytest.mark.control

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCESS_TOKEN_SECONDS = 3600


def start_login(portal) -> dict:
    response = portal.api("POST", "/api/oauth/device/code", content_type="application/x-www-form-urlencoded",
                          body=f"client_id=hermes-cli&scope={BILLING_SCOPE.replace(' ', '+')}")
    assert response.status_code == 200, response.text
    return response.json()


def poll(portal, device_code: str):
    return portal.api("POST", "/api/oauth/token", content_type="application/x-www-form-urlencoded",
                      body=f"grant_type={DEVICE_GRANT}&client_id=hermes-cli&device_code={device_code}")


def refresh(portal, refresh_token: str):
    return portal.api("POST", "/api/oauth/token", content_type="application/x-www-form-urlencoded",
                      headers={"x-nous-refresh-token": refresh_token},
                      body="grant_type=refresh_token&client_id=hermes-cli")


def logged_in(portal) -> dict:
    code = start_login(portal)
    portal.approve(code["user_code"], OWNER, allow_billing=True)
    answer = poll(portal, code["device_code"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def state_status(portal, access_token: str) -> tuple[int, str | None]:
    response = portal.api("GET", "/api/billing/state", headers=bearer(access_token))
    return response.status_code, response.json().get("error")


@st.composite
def typings(draw, user_code: str) -> str:
    """How a person might type `BCDF-GHJK`: any case per letter, the dash kept, dropped or a
    space, spaces around."""
    letters = [draw(st.sampled_from([c.lower(), c.upper()])) for c in user_code.replace("-", "")]
    middle = draw(st.sampled_from(["-", "", " "]))
    return (draw(st.sampled_from(["", " "])) + "".join(letters[:4]) + middle + "".join(letters[4:])
            + draw(st.sampled_from(["", " "])))


@settings(max_examples=examples(4))
@given(data=st.data())
def test_a_user_code_is_taken_however_it_is_typed_and_its_device_code_redeemed_once(portal, data):
    portal.reset(world())
    code = start_login(portal)
    typed = data.draw(typings(code["user_code"]), label="typed user code")
    assert portal.approve(typed, OWNER, allow_billing=True)["ok"] is True
    first = poll(portal, code["device_code"])
    assert first.status_code == 200, first.text
    portal.advance(1)
    again = poll(portal, code["device_code"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant"), "a device code was redeemed twice"


@settings(max_examples=examples(3))
@given(early=st.integers(min_value=1, max_value=ACCESS_TOKEN_SECONDS - 1),
       late=st.integers(min_value=0, max_value=7 * 86400))
@example(early=1, late=0)
def test_an_access_token_lasts_an_hour_and_is_refused_from_its_exp_on(portal, early, late):
    portal.reset(world())
    login = logged_in(portal)
    claims = jwt.decode(login["access_token"], options={"verify_signature": False})
    assert login["expires_in"] == ACCESS_TOKEN_SECONDS and claims["exp"] - claims["iat"] == ACCESS_TOKEN_SECONDS
    note(f"checked {ACCESS_TOKEN_SECONDS - early} s after the login, then {late} s after its exp")
    portal.advance(ACCESS_TOKEN_SECONDS - early)
    assert state_status(portal, login["access_token"]) == (200, None)
    portal.advance(early + late)
    assert state_status(portal, login["access_token"]) == (401, "invalid_token")
    assert refresh(portal, login["refresh_token"]).status_code == 200, "an expired access token's login renews"


@settings(max_examples=examples(2))
@given(renewals=st.integers(min_value=1, max_value=3), reused=st.data())
def test_a_refresh_token_is_single_use_and_its_reuse_revokes_the_session(portal, renewals, reused):
    portal.reset(world())
    login = logged_in(portal)
    spent = []
    for _ in range(renewals):
        answer = refresh(portal, login["refresh_token"])
        assert answer.status_code == 200, answer.text
        spent.append(login["refresh_token"])
        login = answer.json()
        assert login["refresh_token"] not in spent, "a refresh gave back a refresh token already used"
    old = reused.draw(st.sampled_from(spent), label="the used refresh token presented again")
    replay = refresh(portal, old)
    assert (replay.status_code, replay.json()["error"]) == (400, "refresh_token_reused")
    assert state_status(portal, login["access_token"]) == (401, "session_revoked")
    after = refresh(portal, login["refresh_token"])
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant"), "the revoked session renewed"


@settings(max_examples=examples(2))
@given(purchased=st.sampled_from(["0", "-1", "0.000001", "5"]), plan=st.sampled_from([None, "nous-chat-plan-40"]))
@example(purchased="0", plan=None)
@example(purchased="5", plan="nous-chat-plan-40")
def test_a_token_carries_the_entitlement_of_its_minting(portal, purchased, plan):
    """Section 9: an access token's claims are a snapshot of the account when it was minted:
    `paid_access` is `paid_service_access.allowed`, `subscription_tier` the plan's tier (0 with
    none), `tool_access` the account's."""
    if plan is None:  # acme, a team: its purchased balance is all it has
        portal.reset(world(balanceUsd=purchased))
    else:  # pat on a plan whose grant and rollover are spent
        subscription = {"tierId": plan, "creditsRemaining": "0", "rolloverCredits": "0"}
        portal.reset(world(pat={"balanceUsd": purchased, "subscription": subscription}))
    user = OWNER if plan is None else PAT_OWNER
    login = portal.token(user, BILLING_SCOPE)
    claims = jwt.decode(login["access_token"], options={"verify_signature": False})
    account = portal.api("GET", "/api/oauth/account", headers=bearer(login["access_token"])).json()
    access = account["paid_service_access"]
    note(f"P {purchased}, plan {plan}: account {access}")
    assert claims["paid_access"] is access["allowed"] is (purchased in ("0.000001", "5"))
    assert claims["subscription_tier"] == access["subscription_tier"] == (3 if plan else 0)
    assert claims["tool_access"] == account["tool_access"]
