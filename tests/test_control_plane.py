"""The /_mock control plane: reset, clock, faults, journal, and its guard."""

import threading
import time

import pytest
import requests

from mockportal import create_app
from mockportal.testing import TEST_EPOCH, PortalServer


def test_reset_replaces_all_state_and_rewinds_the_clock(portal, client):
    headers = portal.bearer()
    portal.charge(headers)
    portal.advance(100)
    assert client.post("/_mock/reset", json={"scenario": "demo"}).json == {"ok": True}
    assert portal.org()["charges"] == []
    assert client.get("/_mock/clock").json["now"] == "2026-06-10T12:00:00Z"
    assert client.get("/api/billing/state", headers=headers).json["error"] == "invalid_token"


def test_reset_to_an_inline_fixture(portal, client):
    fixture = {"orgs": [{"id": "org_tiny", "name": "Tiny", "balanceUsd": 5, "card": None,
                         "users": [{"email": "boss@tiny.test", "role": "OWNER"}]}]}
    assert client.post("/_mock/reset", json=fixture).status_code == 200
    state = portal.state(portal.bearer("boss@tiny.test"))
    assert state["org"] == {"id": "org_tiny", "slug": "org_tiny", "name": "Tiny", "role": "OWNER"}
    assert state["balanceUsd"] == "5" and state["card"] is None and state["cliBillingEnabled"] is True
    assert client.get("/_mock/orgs/org_acme").status_code == 404


def test_a_failed_reset_keeps_the_previous_state(portal, client):
    response = client.post("/_mock/reset", json={"orgs": [{"id": "a"}, {"id": "a"}]})
    assert response.status_code == 409
    assert portal.org()["balanceUsd"] == "142.5"


def test_minted_tokens_look_like_token_endpoint_responses(portal):
    token = portal.token("member@acme.test", "billing:manage inference:invoke bogus:scope", 120)
    assert set(token) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert token["token_type"] == "Bearer" and token["expires_in"] == 120
    assert token["scope"] == "inference:invoke billing:manage"


def test_the_clock_moves_only_forward_and_only_when_told(client):
    assert client.get("/_mock/clock").json == {"now": "2026-06-10T12:00:00Z", "epoch": TEST_EPOCH, "frozen": True}
    assert client.post("/_mock/clock", json={"advanceSeconds": 90.5}).json["epoch"] == TEST_EPOCH + 90.5


def test_injected_faults_answer_the_next_matching_requests(portal, client):
    headers = portal.bearer()
    portal.fault("GET", "/api/billing/charge/*", 503, "temporarily_unavailable", retry_after=2, count=2)
    for _ in range(2):
        response = client.get("/api/billing/charge/ch_x", headers=headers)
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
        assert response.json["error"] == "temporarily_unavailable"
    assert client.get("/api/billing/charge/ch_x", headers=headers).status_code == 200
    assert client.get("/api/billing/state", headers=headers).status_code == 200


def test_faults_can_be_cleared(portal, client):
    portal.fault("*", "/api/*", 500, count=5)
    portal.clear_faults()
    assert client.get("/api/billing/state", headers=portal.bearer()).status_code == 200


def test_a_stalled_request_leaves_the_portal_free_for_every_other_request():
    with PortalServer() as server:
        control = server.control()
        headers = control.bearer("owner@acme.test")
        control.fault("GET", "/openapi.json", delay_ms=2000)
        answers = []
        stalled = threading.Thread(target=lambda: answers.append(requests.get(server.url + "/openapi.json",
                                                                              timeout=10).status_code))
        stalled.start()
        time.sleep(0.5)  # it has taken the fault and is asleep
        started = time.monotonic()
        state = requests.get(server.url + "/api/billing/state", timeout=5, headers=headers)
        assert state.status_code == 200 and time.monotonic() - started < 1
        stalled.join()
        assert answers == [200]
        control.close()


def test_the_journal_records_api_requests_not_control_ones(portal, client):
    portal.clear_journal()
    client.get("/api/billing/state", headers=portal.bearer())
    client.get("/api/billing/state")
    entries = portal.journal()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/billing/state", 200), ("GET", "/api/billing/state", 401)]
    assert entries[0]["time"] == "2026-06-10T12:00:00Z"


def test_a_month_boundary_resets_spend(portal):
    headers = portal.bearer()
    portal.charge(headers, amount="900", key="june")
    portal.advance(21 * 86400)  # 2026-07-01T12:00Z
    state = portal.state(portal.bearer())
    assert state["monthlyCap"]["spentThisMonthUsd"] == "0"
    assert portal.charge(portal.bearer(), amount="1000", key="july").status_code == 202


@pytest.fixture
def guarded():
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_TOKEN": "s3cret"}).test_client()


def test_a_control_token_guards_the_control_plane(guarded):
    assert guarded.get("/_mock/clock").status_code == 401
    assert guarded.get("/_mock/clock", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/_mock/clock", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_the_control_plane_can_be_switched_off():
    client = create_app({"CONTROL_ENABLED": False}).test_client()
    response = client.post("/_mock/reset", json={})
    assert response.status_code == 404 and response.json["error"] == "not_found"
