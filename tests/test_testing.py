"""The test harness (`mockportal.testing`): one Control over either transport, the server's
clock choice, and the time a client is given."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from mockportal import create_app
from mockportal.testing import TEST_EPOCH, Control, ControlError, PortalServer, PortalTime


@pytest.fixture(params=["flask", "http"])
def control(request):
    """The same verbs over a Flask test client and over real HTTP (the plugin's portal)."""
    if request.param == "http":
        return request.getfixturevalue("mockportal")
    return Control.over_flask(create_app({"FROZEN_CLOCK_AT": TEST_EPOCH}).test_client())


def test_the_verbs_reach_the_portal_over_either_transport(control):
    assert control.now() == TEST_EPOCH
    assert control.advance(90) == TEST_EPOCH + 90
    assert control.edit_org(balanceUsd=Decimal("7.25"))["balanceUsd"] == "7.25"
    assert control.debit_usage("org_acme", "0.25")["balanceUsd"] == "7"
    control.edit_user("admin@acme.test", role="MEMBER")
    control.script_outcome(outcome="fail", reason="card_declined", count=2)
    assert [s["outcome"] for s in control.org()["scriptedOutcomes"]] == ["fail", "fail"]
    control.reset({"orgs": [{"id": "org_tiny", "users": [{"email": "boss@tiny.test", "role": "OWNER"}]}]})
    assert control.org("org_tiny")["balanceUsd"] == "0"
    assert control.now() == TEST_EPOCH  # a reset rewinds the clock


def test_login_runs_the_device_flow_and_honours_the_tick(control):
    full = control.login("owner@acme.test")
    assert full["scope"] == "inference:invoke tool:invoke billing:manage"
    assert control.login("owner@acme.test", allow_billing=False)["scope"] == "inference:invoke tool:invoke"
    assert control.login("member@acme.test")["scope"] == "inference:invoke tool:invoke"
    assert control.revoke("session", full["access_token"]) == 1


def test_a_refusal_raises_with_the_answer(control):
    with pytest.raises(ControlError) as refused:
        control.org("org_nope")
    assert refused.value.status == 404 and refused.value.body["error"] == "unknown_org"
    assert "GET /_mock/orgs/org_nope answered 404" in str(refused.value)
    with pytest.raises(ControlError) as refused:
        control.approve("BCDF-GHJK")
    assert refused.value.body["error"] == "unknown_user_code"


def test_faults_and_the_journal(control):
    headers = control.bearer()
    control.clear_journal()
    control.fault("GET", "/api/billing/state", 503, "temporarily_unavailable", retry_after=2)
    control.fault("*", "/api/*", 500, "boom", count=5)
    control.clear_faults()
    control.fault("GET", "/api/billing/state", 503, "temporarily_unavailable", retry_after=2)
    statuses = [control.transport.send("GET", "/api/billing/state", headers=headers).status for _ in range(2)]
    assert statuses == [503, 200]
    assert [(e["method"], e["path"], e["status"]) for e in control.journal()] == [
        ("GET", "/api/billing/state", 503), ("GET", "/api/billing/state", 200)]
    assert len(control.journal(limit=1)) == 1
    control.clear_journal()
    assert control.journal() == []


def test_a_control_token_is_sent_when_given():
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_TOKEN": "s3cret"}).test_client()
    assert Control.over_flask(client).offered() is None
    assert Control.over_flask(client, "s3cret").offered()["frozen"] is True


def test_no_control_plane_is_offered_where_nothing_listens():
    with PortalServer() as stopped:
        url = stopped.url
    assert Control.over_http(url).offered() is None


def test_a_running_clock_follows_the_wall_clock_and_can_still_be_moved():
    with PortalServer(clock="running") as server:
        control = server.control()
        reading = control.clock()
        assert reading["frozen"] is False and abs(reading["epoch"] - time.time()) < 60
        assert control.advance(3600) - time.time() > 3500
        control.close()


def test_a_server_starts_with_its_scenario_and_guards_its_control_plane():
    with PortalServer(scenario="empty", control_token="s3cret") as server:
        assert Control.over_http(server.url).offered() is None
        control = server.control()
        with pytest.raises(ControlError) as refused:
            control.org("org_acme")
        assert refused.value.status == 404
        control.close()


def test_an_unknown_clock_is_refused():
    with pytest.raises(ValueError, match="frozen"):
        PortalServer(clock="sundial")


def test_sleeping_moves_the_portal_clock_and_runs_what_is_due(control):
    time_ = PortalTime(control)
    done = []
    time_.later(3, lambda: done.append(time_.clock()))
    time_.sleep(2)
    assert done == [] and control.now() == TEST_EPOCH + 2
    time_.sleep(2)
    assert done == [4] and time_.sleeps == [2, 2] and control.now() == TEST_EPOCH + 4


def test_without_a_control_plane_only_the_fake_clock_moves_unless_told_to_wait():
    waited = []
    fake, real = PortalTime(), PortalTime(real_sleep=waited.append)
    fake.sleep(5)
    real.sleep(5)
    assert (fake.clock(), real.clock(), waited) == (5, 5, [5])
