"""State does not grow forever: device codes, access and refresh tokens and the grants they
belong to are forgotten by age on the portal clock, late enough that no client can tell.

Retention (README, "Contract choices"): a device code a day past its expiry, and only the
newest MAX_DEVICE_CODES; an access token a day past its expiry; a refresh token once it has
expired, a year after it was issued, used or not; a grant once none of its tokens is kept.
"""

from __future__ import annotations

import sqlite3

import pytest

from mockportal import create_app
from mockportal.domain import device
from mockportal.domain.device import DEVICE_CODE_KEPT_SECONDS, DEVICE_CODE_SECONDS
from mockportal.domain.tokens import ACCESS_TOKEN_KEPT_SECONDS, REFRESH_TOKEN_SECONDS
from mockportal.store import auth
from mockportal.testing import TEST_EPOCH
from tests.conftest import PortalDriver

DAY = 86400


@pytest.fixture
def database(tmp_path) -> str:
    return str(tmp_path / "portal.db")


@pytest.fixture
def portal(database) -> PortalDriver:
    """The portal on a file, so a test can count its rows with a connection of its own."""
    return PortalDriver(create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "DATABASE": database}).test_client())


def rows(database: str, table: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def start_login(portal) -> dict:
    response = portal.client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"})
    assert response.status_code == 200, response.json
    return response.json


def error_of(response) -> str:
    return response.json["error"]


def poll_error(portal, device_code: str) -> str:
    return portal.poll(device_code).json["error"]


# -- device codes ------------------------------------------------------------------------------
def test_three_thousand_abandoned_logins_do_not_stay_three_thousand_rows(portal, database):
    for _ in range(3000):
        start_login(portal)
    assert rows(database, "device_codes") == 3000
    portal.advance(DEVICE_CODE_SECONDS + DEVICE_CODE_KEPT_SECONDS)
    start_login(portal)
    assert rows(database, "device_codes") == 1


def test_an_expired_code_answers_expired_token_for_a_day_then_is_unknown(portal):
    code = start_login(portal)["device_code"]
    portal.advance(DEVICE_CODE_SECONDS + DEVICE_CODE_KEPT_SECONDS - 1)
    start_login(portal)  # purges what is due
    assert poll_error(portal, code) == "expired_token"
    portal.advance(2)
    start_login(portal)
    assert poll_error(portal, code) == "invalid_grant"


def test_only_the_newest_device_codes_are_kept(portal, database, monkeypatch):
    monkeypatch.setattr(device, "MAX_DEVICE_CODES", 20)
    codes = [start_login(portal) for _ in range(30)]
    assert rows(database, "device_codes") == 20
    assert poll_error(portal, codes[9]["device_code"]) == "invalid_grant"  # evicted
    assert poll_error(portal, codes[10]["device_code"]) == "authorization_pending"
    portal.approve(codes[-1]["user_code"])
    assert portal.poll(codes[-1]["device_code"]).status_code == 200


# -- access tokens -------------------------------------------------------------------------------
def test_an_expired_access_token_is_refused_the_same_way_before_and_after_it_is_forgotten(portal, database):
    headers = portal.bearer(expires_in=60)
    portal.advance(61)
    before = portal.client.get("/api/billing/state", headers=headers).json
    portal.advance(ACCESS_TOKEN_KEPT_SECONDS)
    portal.login()  # purges what is due
    after = portal.client.get("/api/billing/state", headers=headers).json
    assert before == after and after["error"] == "invalid_token"
    assert rows(database, "access_tokens") == 1


def test_a_revoked_sessions_access_token_says_session_revoked_until_it_expires(portal):
    login = portal.login()
    portal.revoke("session", login["refresh_token"])
    for _ in range(3):
        portal.advance(1000)
        portal.login()
        response = portal.client.get("/api/billing/state", headers={"Authorization": "Bearer " + login["access_token"]})
        assert response.json["error"] == "session_revoked"


# -- refresh tokens and grants ---------------------------------------------------------------------
def test_a_used_refresh_token_is_recognised_as_reused_for_its_whole_life(portal):
    login = portal.login()
    rotated = portal.refresh(login["refresh_token"]).json
    for _ in range(10):  # other sessions come and go, and each purges
        portal.advance(REFRESH_TOKEN_SECONDS // 12)
        portal.login("admin@acme.test")
    assert error_of(portal.refresh(login["refresh_token"])) == "refresh_token_reused"
    assert error_of(portal.refresh(rotated["refresh_token"])) == "invalid_grant"  # the grant is revoked


def test_a_refresh_token_expires_a_year_after_it_was_issued(portal):
    login = portal.login()
    portal.advance(REFRESH_TOKEN_SECONDS - 1)
    rotated = portal.refresh(login["refresh_token"])
    assert rotated.status_code == 200
    portal.advance(REFRESH_TOKEN_SECONDS)
    response = portal.refresh(rotated.json["refresh_token"])
    assert response.status_code == 400 and error_of(response) == "invalid_grant"
    assert "expired" in response.json["error_description"]


def test_an_old_used_refresh_token_past_its_life_does_not_end_the_session_it_came_from(portal):
    login = portal.login()
    portal.advance(REFRESH_TOKEN_SECONDS * 2 // 3)
    rotated = portal.refresh(login["refresh_token"]).json
    portal.advance(REFRESH_TOKEN_SECONDS // 2)  # the first token is expired now, the second is not
    assert error_of(portal.refresh(login["refresh_token"])) == "invalid_grant"
    assert portal.refresh(rotated["refresh_token"]).status_code == 200


def test_a_grant_is_forgotten_with_its_last_token(portal, database):
    login = portal.login()
    portal.revoke("session", login["refresh_token"])
    portal.advance(REFRESH_TOKEN_SECONDS + 1)
    portal.login("admin@acme.test")
    assert rows(database, "grants") == 1 and rows(database, "refresh_tokens") == 1
    assert portal.revoke("session", user="owner@acme.test") == 0


def test_two_years_of_weekly_refreshes_keep_a_years_rows(portal, database):
    current = portal.login()
    for _ in range(2 * 52):
        portal.advance(7 * DAY)
        current = portal.refresh(current["refresh_token"]).json
    assert rows(database, "grants") == 1
    assert rows(database, "refresh_tokens") <= REFRESH_TOKEN_SECONDS // (7 * DAY) + 1
    assert rows(database, "access_tokens") <= 2
    assert portal.state({"Authorization": "Bearer " + current["access_token"]})["org"]["id"] == "org_acme"


# -- no purge scans a table --------------------------------------------------------------------------
@pytest.mark.parametrize("statement", sorted(auth.PURGES))
def test_every_purge_statement_is_answered_from_an_index(database, portal, statement):
    sql, params = auth.PURGES[statement]
    with sqlite3.connect(database) as conn:
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), f"{statement}: {plan}"


def test_a_used_up_fault_is_forgotten(portal, database):
    portal.fault("GET", "/openapi.json", 503, count=2)
    assert [portal.client.get("/openapi.json").status_code for _ in range(3)] == [503, 503, 200]
    assert rows(database, "faults") == 0
