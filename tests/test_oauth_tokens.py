"""Tokens after login (CONTRACT.md sections 2 and 6): refresh rotation, reuse detection, revocations."""

from __future__ import annotations

import jwt
import pytest

from tests.conftest import BILLING


def bearer(token_response: dict) -> dict:
    return {"Authorization": "Bearer " + token_response["access_token"]}


def error_of(response) -> str:
    return response.json["error"]


# -- refresh rotation ---------------------------------------------------------------------------
def test_refresh_returns_a_new_access_token_and_a_new_refresh_token(portal):
    login = portal.login()
    portal.advance(60)
    response = portal.refresh(login["refresh_token"])
    assert response.status_code == 200, response.json
    rotated = response.json
    assert set(rotated) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert rotated["access_token"] != login["access_token"]
    assert rotated["refresh_token"] != login["refresh_token"]
    assert rotated["scope"] == BILLING and rotated["token_type"] == "Bearer" and rotated["expires_in"] == 3600
    assert portal.state(bearer(rotated))["org"]["id"] == "org_acme"


def test_a_chain_of_refreshes_keeps_working(portal):
    current = portal.login()
    for _ in range(3):
        current = portal.refresh(current["refresh_token"]).json
    assert portal.charge(bearer(current)).status_code == 202


def test_refresh_keeps_a_downscoped_grant_downscoped(portal):
    login = portal.login("member@acme.test", allow_billing=True)
    assert portal.refresh(login["refresh_token"]).json["scope"] == "inference:invoke tool:invoke"


def test_replaying_a_used_refresh_token_revokes_the_whole_grant(portal):
    login = portal.login()
    rotated = portal.refresh(login["refresh_token"]).json
    assert portal.state(bearer(rotated))

    replay = portal.refresh(login["refresh_token"])
    assert replay.status_code == 400
    assert replay.json == {"error": "refresh_token_reused", "error_description": replay.json["error_description"]}

    # Every access token of the grant stops at once, long before its 15 minutes are up.
    for token in (login, rotated):
        response = portal.client.get("/api/billing/state", headers=bearer(token))
        assert response.status_code == 401 and error_of(response) == "session_revoked"
        assert response.json["recovery"] == "login"
    # And the newest refresh token, never used, is dead too.
    assert error_of(portal.refresh(rotated["refresh_token"])) == "invalid_grant"


def test_reuse_revokes_only_that_grant(portal):
    victim, bystander = portal.login(), portal.login()
    portal.refresh(victim["refresh_token"])
    portal.refresh(victim["refresh_token"])
    assert portal.client.get("/api/billing/state", headers=bearer(bystander)).status_code == 200
    assert portal.refresh(bystander["refresh_token"]).status_code == 200


@pytest.mark.parametrize("headers, form, error", [
    ({}, {}, "invalid_request"),
    ({"x-nous-refresh-token": ""}, {}, "invalid_request"),
    ({}, {"refresh_token": "{token}"}, "invalid_request"),
    ({"x-nous-refresh-token": "rt_unknown"}, {}, "invalid_grant"),
    ({"x-nous-refresh-token": "{token}"}, {"client_id": "evil-cli"}, "invalid_client"),
    ({"x-nous-refresh-token": "{token}"}, {"client_id": ""}, "invalid_request"),
])
def test_refresh_refusals(portal, headers, form, error):
    login = portal.login()

    def fill(fields: dict) -> dict:
        return {name: value.format(token=login["refresh_token"]) for name, value in fields.items()}

    response = portal.client.post("/api/oauth/token", headers=fill(headers),
                                  data={"grant_type": "refresh_token", "client_id": "hermes-cli", **fill(form)})
    assert response.status_code == 400 and set(response.json) == {"error", "error_description"}
    assert error_of(response) == error
    # A refused refresh spends nothing: the token still rotates.
    assert portal.refresh(login["refresh_token"]).status_code == 200


def test_an_access_token_lasts_an_hour_of_portal_time(portal):
    login = portal.login()
    portal.advance(3599)
    assert portal.client.get("/api/billing/state", headers=bearer(login)).status_code == 200
    portal.advance(1)
    response = portal.client.get("/api/billing/state", headers=bearer(login))
    assert response.status_code == 401 and error_of(response) == "invalid_token"
    assert portal.refresh(login["refresh_token"]).status_code == 200


def test_a_tampered_access_token_is_refused(portal):
    login = portal.login("member@acme.test", allow_billing=True)
    claims = jwt.decode(login["access_token"], options={"verify_signature": False})
    forged = jwt.encode({**claims, "scope": BILLING}, "a-guessed-secret-of-thirty-two-bytes!", algorithm="HS256")
    response = portal.client.get("/api/billing/state", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and error_of(response) == "invalid_token"


# -- revocations --------------------------------------------------------------------------------
def revoke(portal, **grant) -> None:
    assert portal.revoke(**grant) >= 1


@pytest.mark.parametrize("named_by", ["access_token", "refresh_token"])
def test_revoking_a_session_stops_its_access_and_refresh_tokens(portal, named_by):
    login = portal.login()
    revoke(portal, kind="session", token=login[named_by])
    response = portal.client.get("/api/billing/state", headers=bearer(login))
    assert response.status_code == 401 and error_of(response) == "session_revoked"
    assert response.json["recovery"] == "login"
    refreshed = portal.refresh(login["refresh_token"])
    assert refreshed.status_code == 400 and error_of(refreshed) == "invalid_grant"


def test_revoking_a_users_sessions_leaves_other_users_logged_in(portal):
    owner, finance = portal.login("owner@acme.test"), portal.login("finance@acme.test")
    revoke(portal, kind="session", user="owner@acme.test")
    assert portal.client.get("/api/billing/state", headers=bearer(owner)).status_code == 401
    assert portal.refresh(owner["refresh_token"]).status_code == 400
    assert portal.client.get("/api/billing/state", headers=bearer(finance)).status_code == 200


@pytest.mark.parametrize("actor", ["self", "admin"])
def test_revoked_spending_refuses_billing_writes_with_a_still_valid_jwt(portal, actor):
    login = portal.login()
    assert portal.charge(bearer(login), key="before").status_code == 202
    revoke(portal, kind="spending", token=login["access_token"], actor=actor)

    response = portal.charge(bearer(login), key="after")
    assert response.status_code == 403
    assert response.json["error"] == "remote_spending_revoked"
    assert response.json["actor"] == actor and response.json["recovery"] == "reconnect"
    auto_top_up = portal.client.patch("/api/billing/auto-top-up", headers=bearer(login),
                                      json={"enabled": False, "threshold": 0, "topUpAmount": 0})
    assert auto_top_up.status_code == 403 and error_of(auto_top_up) == "remote_spending_revoked"
    # Reading still works: only spending was revoked, not the session.
    assert portal.state(bearer(login))["balanceUsd"]


def test_revoked_spending_survives_a_refresh_but_a_new_login_restores_it(portal):
    login = portal.login()
    revoke(portal, kind="spending", token=login["refresh_token"], actor="self")
    rotated = portal.refresh(login["refresh_token"]).json
    assert error_of(portal.charge(bearer(rotated), key="k1")) == "remote_spending_revoked"
    assert portal.charge(bearer(portal.login()), key="k2").status_code == 202
