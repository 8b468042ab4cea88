"""GET requests on a file database run as readers, without the write lock, and become writers
only when they must write: what comes due is still settled once, and journaled once."""

from __future__ import annotations

from mockportal import create_app
from mockportal.testing import TEST_EPOCH, Control


def portal_on_file(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "portal.db"), "FROZEN_CLOCK_AT": TEST_EPOCH})
    assert app.extensions["mockportal"].store.reads_apart
    return app.test_client(), Control.over_flask(app.test_client())


def test_a_read_that_finds_a_charge_due_settles_it_once_and_is_journaled_once(tmp_path):
    client, control = portal_on_file(tmp_path)
    headers = control.bearer()
    accepted = client.post("/api/billing/charge", json={"amountUsd": 25},
                           headers={**headers, "Idempotency-Key": "k"})
    charge_id = accepted.json["chargeId"]
    control.advance(3)
    control.clear_journal()
    status = client.get(f"/api/billing/charge/{charge_id}", headers=headers).json
    assert status["status"] == "settled"
    assert client.get("/api/billing/state", headers=headers).json["balanceUsd"] == "167.5"
    assert [(e["method"], e["path"]) for e in control.journal()] == [
        ("GET", f"/api/billing/charge/{charge_id}"), ("GET", "/api/billing/state")]


def test_a_read_that_finds_a_cycle_ended_renews_the_plan(tmp_path):
    client, control = portal_on_file(tmp_path)
    headers = control.bearer("pat@pat.test", expires_in=10**8)
    control.advance(20 * 86400)
    current = client.get("/api/billing/subscription", headers=headers).json["current"]
    # R = min(12.5 + 3, 22) = 15.5 rolls over; G = 22 anew: 37.5, written by the read.
    assert current["creditsRemaining"] == "37.5"
    assert control.org("org_pat")["subscription"]["rolloverCredits"] == "15.5"
