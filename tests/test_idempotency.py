"""Idempotency-Key: replay, conflict, scope per org, 24 h retention, one charge under concurrency."""

import threading

import requests

from mockportal.testing import PortalServer


def test_same_key_and_amount_replays_the_original_response(portal):
    headers = portal.bearer()
    first = portal.charge(headers, amount="25", key="buy-1")
    again = portal.charge(headers, amount="25.00", key="buy-1")
    assert first.status_code == again.status_code == 202
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(portal.org()["charges"]) == 1


def test_same_key_with_another_amount_is_409_idempotency_conflict(portal):
    headers = portal.bearer()
    portal.charge(headers, amount="25", key="buy-1")
    response = portal.charge(headers, amount="26", key="buy-1")
    assert response.status_code == 409 and response.json["error"] == "idempotency_conflict"
    assert len(portal.org()["charges"]) == 1


def test_a_replay_uses_no_rate_limit_slot(portal):
    headers = portal.bearer()
    for index in range(5):
        assert portal.charge(headers, amount="10", key=f"k{index}").status_code == 202
    assert portal.charge(headers, amount="10", key="k0").status_code == 202
    assert portal.charge(headers, amount="10", key="k-new").status_code == 429


def test_a_replay_is_answered_even_after_the_cap_is_reached(portal):
    headers = portal.bearer()
    portal.charge(headers, amount="1000", key="big")
    assert portal.charge(headers, amount="1000", key="big").status_code == 202


def test_keys_belong_to_one_org(portal):
    portal.edit_org("org_globex", cliBillingEnabled=True, card={"brand": "visa", "last4": "4242"})
    acme = portal.charge(portal.bearer("owner@acme.test"), amount="25", key="shared")
    globex = portal.charge(portal.bearer("owner@globex.test"), amount="50", key="shared")
    assert globex.status_code == 202 and globex.json["chargeId"] != acme.json["chargeId"]


def test_keys_are_shared_by_users_of_one_org(portal):
    first = portal.charge(portal.bearer("owner@acme.test"), amount="25", key="team")
    second = portal.charge(portal.bearer("admin@acme.test"), amount="25", key="team")
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"


def test_keys_expire_after_24_hours(portal):
    headers = portal.bearer("owner@acme.test")
    first = portal.charge(headers, amount="25", key="daily")
    portal.advance(24 * 3600)
    headers = portal.bearer("owner@acme.test")
    second = portal.charge(headers, amount="30", key="daily")
    assert second.status_code == 202 and second.json["chargeId"] != first.json["chargeId"]


def test_a_refused_request_remembers_nothing_so_the_key_can_be_retried(portal):
    headers = portal.bearer()
    portal.edit_org(card=None)
    assert portal.charge(headers, amount="25", key="retry-me").status_code == 403
    portal.edit_org(card={"brand": "visa", "last4": "4242"})
    assert portal.charge(headers, amount="40", key="retry-me").status_code == 202


def test_concurrent_requests_with_one_key_make_exactly_one_charge():
    with PortalServer(threads=16) as server:
        control = server.control()
        headers = {**control.bearer("owner@acme.test", "billing:manage"), "Idempotency-Key": "race"}
        barrier = threading.Barrier(16)
        answers = []

        def submit():
            barrier.wait()
            response = requests.post(f"{server.url}/api/billing/charge", json={"amountUsd": 25}, headers=headers)
            answers.append((response.status_code, response.json()["chargeId"]))

        threads = [threading.Thread(target=submit) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        charges = control.org("org_acme")["charges"]
        control.close()
    assert len(charges) == 1
    assert answers == [(202, charges[0]["id"])] * 16
