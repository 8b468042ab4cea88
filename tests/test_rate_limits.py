"""5 accepted charges per org per rolling hour, and per grant, with an exact Retry-After."""

import pytest

from mockportal.domain.ratelimit import seconds_until_slot


def _fill(portal, headers, count=5, prefix="k"):
    for index in range(count):
        assert portal.charge(headers, amount="10", key=f"{prefix}{index}").status_code == 202


def test_the_sixth_charge_in_an_hour_is_429_with_retry_after(portal):
    headers = portal.bearer()
    _fill(portal, headers)
    response = portal.charge(headers, amount="10", key="sixth")
    assert response.status_code == 429 and response.json["error"] == "rate_limited"
    assert response.headers["Retry-After"] == "3600"


def test_retry_after_is_exactly_when_a_slot_frees(portal):
    headers = portal.bearer()
    assert portal.charge(headers, amount="10", key="first").status_code == 202
    portal.advance(600)
    _fill(portal, headers, count=4)
    response = portal.charge(headers, amount="10", key="next")
    assert response.headers["Retry-After"] == "3000"
    portal.advance(2999)
    headers = portal.bearer()
    assert portal.charge(headers, amount="10", key="next").headers["Retry-After"] == "1"
    portal.advance(1)
    assert portal.charge(headers, amount="10", key="next").status_code == 202


def test_the_org_limit_spans_users(portal):
    _fill(portal, portal.bearer("owner@acme.test"), count=3, prefix="o")
    _fill(portal, portal.bearer("admin@acme.test"), count=2, prefix="a")
    assert portal.charge(portal.bearer("finance@acme.test"), amount="10", key="f").status_code == 429


def test_another_org_is_not_limited(portal):
    _fill(portal, portal.bearer())
    portal.edit_org("org_globex", cliBillingEnabled=True, card={"brand": "visa", "last4": "4242"})
    assert portal.charge(portal.bearer("owner@globex.test"), amount="10", key="g").status_code == 202


def test_failed_charges_still_use_their_slot(portal):
    portal.edit_org(card={"brand": "visa", "last4": "0002"})
    headers = portal.bearer()
    _fill(portal, headers)
    portal.advance(3)
    assert portal.charge(headers, amount="10", key="after-declines").status_code == 429


def test_auto_reload_charges_do_not_count(portal, client):
    client.patch("/api/billing/auto-top-up", headers=portal.bearer(),
                 json={"enabled": True, "threshold": 100, "topUpAmount": 200})
    for _ in range(3):
        portal.debit_usage("org_acme", "150")
        portal.advance(3)
    assert len([c for c in portal.org()["charges"] if c["source"] == "auto_reload"]) == 3
    _fill(portal, portal.bearer())


@pytest.mark.parametrize("times, now, wait", [
    ([], 0, 0), ([1.0] * 4, 2, 0), ([0.0, 10, 20, 30, 40], 100, 3500),
    ([0.5, 10, 20, 30, 40], 100, 3501), ([0.0, 1, 2, 3, 4, 5], 100, 3501),
])
def test_seconds_until_slot(times, now, wait):
    assert seconds_until_slot(times, now) == wait
