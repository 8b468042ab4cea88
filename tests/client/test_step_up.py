"""Step-up: a billing write refused for scope runs the device flow, then replays the held
charge with the same idempotency key, unless the portal silently downscoped the new login."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from client import errors
from client.journeys import buy
from client.oauth import device_login
from client.transport import Transport

from mockportal.testing import BILLING_SCOPE, LOGIN_SCOPE, PortalTime
from tests.client.stubs import Scripted, session_with
from tests.client.support import Approver

DEVICE_CODE = "POST /api/oauth/device/code"


def purchase(api, fake_time, approver, amount="25"):
    return buy(api, Decimal(amount), show=approver.show, clock=fake_time.clock, sleep=fake_time.sleep)


def charge_attempts(control):
    return [r["status"] for r in control.journal(method="POST", path_prefix="/api/billing/charge")]


def test_step_up_then_replay_with_the_same_key(control, login, fake_time, store):
    api = login(scope=LOGIN_SCOPE)
    approver = Approver(control, fake_time, wait=2)
    result = purchase(api, fake_time, approver)

    assert result.outcome == "settled"
    assert charge_attempts(control) == [403, 202]
    charges = control.org()["charges"]
    assert [c["id"] for c in charges] == [result.charge_id]
    assert store.load().can_bill
    assert approver.shown[0].verification_uri_complete.startswith(control.url + "/device?user_code=")
    assert fake_time.sleeps[:2] == [1, 1]  # the device poll runs every second
    assert Decimal(control.org()["balanceUsd"]) == Decimal("167.5")


def test_the_replay_uses_the_held_key(control, login, fake_time, store):
    keys = iter(["held-key", "a-second-key"])
    api = login(scope=LOGIN_SCOPE)
    result = buy(api, Decimal("25"), show=Approver(control, fake_time).show, new_key=lambda: next(keys),
                 clock=fake_time.clock, sleep=fake_time.sleep)
    assert result.idempotency_key == "held-key"
    assert result.outcome == "settled"
    # Replaying the held key with the new login is answered as a replay of that charge.
    replay = api.charge(Decimal("25"), "held-key")
    assert (replay.charge_id, replay.replayed) == (result.charge_id, True)


def test_the_step_up_asks_for_the_held_scopes_plus_billing(control, login, fake_time):
    api = login(scope="inference:invoke")
    approver = Approver(control, fake_time)
    purchase(api, fake_time, approver)
    assert api.session.credentials.scope == "inference:invoke billing:manage"


@pytest.mark.parametrize("user,allow", [("owner@acme.test", False), ("member@acme.test", True)])
def test_a_silent_downscope_stops_with_nothing_charged(control, login, fake_time, store, user, allow):
    api = login(scope=LOGIN_SCOPE) if user.startswith("owner") else login(user, LOGIN_SCOPE)
    result = purchase(api, fake_time, Approver(control, fake_time, user=user, allow=allow))
    assert result.outcome == "downscoped"
    assert "billing:manage" not in result.scope.split()
    assert result.charge_id is None
    assert control.org()["charges"] == []
    assert charge_attempts(control) == [403]


def test_a_denied_step_up_is_an_access_denied_error(control, login, fake_time):
    with pytest.raises(errors.OAuthError) as caught:
        purchase(login(scope=LOGIN_SCOPE), fake_time, Approver(control, fake_time, deny=True, wait=1))
    assert caught.value.error == "access_denied"
    assert control.org()["charges"] == []


def test_slow_down_adds_five_seconds_each_time(control, store):
    frozen = PortalTime()  # the portal clock stands still, so every second poll looks too fast
    approver = Approver(control, frozen, wait=3)
    credentials = device_login(Transport(control.url), BILLING_SCOPE, approver.show,
                               clock=frozen.clock, sleep=frozen.sleep)
    assert frozen.sleeps == [1, 6, 11]
    assert credentials.can_bill


def test_the_portal_says_when_a_code_expired(control, fake_time):
    def walk_away(code):
        control.advance(600)

    with pytest.raises(errors.OAuthError) as caught:
        device_login(Transport(control.url), BILLING_SCOPE, walk_away, clock=fake_time.clock, sleep=fake_time.sleep)
    assert caught.value.error == "expired_token"


def test_the_client_stops_polling_when_the_code_expires(store):
    pending = (400, {"error": "authorization_pending", "error_description": "waiting"}, {})
    code = (200, {"device_code": "dc", "user_code": "BCDF-GHJK", "verification_uri": "http://p/device",
                  "verification_uri_complete": "http://p/device?user_code=BCDF-GHJK",
                  "expires_in": 30, "interval": 5}, {})
    adapter = Scripted({DEVICE_CODE: [code], "POST /api/oauth/token": [pending] * 40})
    time = PortalTime()
    with pytest.raises(errors.OAuthError) as caught:
        device_login(Transport("http://p", session_with(adapter)), BILLING_SCOPE, lambda shown: None,
                     clock=time.clock, sleep=time.sleep)
    assert caught.value.error == "expired_token"
    assert time.sleeps == [1] * 30


def test_a_dropped_device_poll_is_repeated(store):
    code = (200, {"device_code": "dc", "user_code": "BCDF-GHJK", "verification_uri": "http://p/device",
                  "expires_in": 600, "interval": 5}, {})
    token = (200, {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900,
                   "scope": BILLING_SCOPE}, {})
    adapter = Scripted({DEVICE_CODE: [code], "POST /api/oauth/token": [requests.ConnectionError("x"), token]})
    time = PortalTime()
    credentials = device_login(Transport("http://p", session_with(adapter)), BILLING_SCOPE, lambda shown: None,
                               clock=time.clock, sleep=time.sleep)
    assert credentials.can_bill
    assert time.sleeps == [1]
