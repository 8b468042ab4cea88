"""A 401 `invalid_token` rotates the refresh token once and retries once; the rotation is on disk
before and after, so a used refresh token is never sent again."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from client.billing import PortalSession
from client.credentials import Credentials
from client.errors import AuthError, NetworkError, RefreshTokenReused, SessionRevoked
from client.transport import Transport

from tests.client.stubs import Recording, Scripted, session_with

BASE = "http://portal.test"
STATE = "GET /api/billing/state"
TOKEN = "POST /api/oauth/token"
EXPIRED = (401, {"error": "invalid_token", "message": "The access token has expired."}, {})
OK = (200, {"ok": True}, {})
ROTATED = (200, {"access_token": "at-2", "refresh_token": "rt-2", "token_type": "Bearer",
                 "expires_in": 900, "scope": "inference:invoke tool:invoke"}, {})


def session_for(store, script) -> tuple[PortalSession, Scripted]:
    adapter = Scripted(script)
    store.save(Credentials("at-1", "rt-1", "inference:invoke tool:invoke"))
    return PortalSession(Transport(BASE, session_with(adapter)), store), adapter


def test_expired_token_is_refreshed_and_the_request_retried(store):
    on_disk_while_refreshing = []

    def rotate(request):
        on_disk_while_refreshing.append(store.load())
        return ROTATED

    session, adapter = session_for(store, {STATE: [EXPIRED, OK], TOKEN: [rotate]})
    assert session.request("GET", "/api/billing/state").body == {"ok": True}

    first, refresh, retry = adapter.sent
    assert first.headers["Authorization"] == "Bearer at-1"
    assert refresh.headers["x-nous-refresh-token"] == "rt-1"
    assert "Authorization" not in refresh.headers
    assert parse_qs(refresh.body) == {"grant_type": ["refresh_token"], "client_id": ["hermes-cli"]}
    assert retry.headers["Authorization"] == "Bearer at-2"
    assert on_disk_while_refreshing == [Credentials("at-1", None, "inference:invoke tool:invoke")]
    assert store.load() == Credentials("at-2", "rt-2", "inference:invoke tool:invoke")


def test_only_one_retry(store):
    session, adapter = session_for(store, {STATE: [EXPIRED, EXPIRED], TOKEN: [ROTATED]})
    with pytest.raises(AuthError):
        session.request("GET", "/api/billing/state")
    assert len(adapter.sent) == 3


def test_session_revoked_is_not_refreshed(store):
    revoked = (401, {"error": "session_revoked", "message": "m", "recovery": "login"}, {})
    session, adapter = session_for(store, {STATE: [revoked], TOKEN: []})
    with pytest.raises(SessionRevoked):
        session.request("GET", "/api/billing/state")
    assert len(adapter.sent) == 1
    assert store.load().refresh_token == "rt-1"


def test_a_lost_refresh_answer_never_resends_the_spent_token(store):
    session, adapter = session_for(store, {STATE: [EXPIRED, EXPIRED], TOKEN: [NetworkError("lost")]})
    with pytest.raises(NetworkError):
        session.request("GET", "/api/billing/state")
    assert store.load().refresh_token is None
    with pytest.raises(AuthError) as caught:  # next time: no token to send, so log in again
        session.request("GET", "/api/billing/state")
    assert caught.value.error == "invalid_token"
    assert [r.method + " " + r.path_url for r in adapter.sent].count("POST /api/oauth/token") == 1


def test_a_reused_refresh_token_is_reported(store):
    reused = (400, {"error": "refresh_token_reused", "error_description": "revoked"}, {})
    session, _ = session_for(store, {STATE: [EXPIRED], TOKEN: [reused]})
    with pytest.raises(RefreshTokenReused):
        session.request("GET", "/api/billing/state")


def test_not_logged_in(store):
    session = PortalSession(Transport(BASE, session_with(Scripted({}))), store)
    with pytest.raises(AuthError) as caught:
        session.request("GET", "/api/billing/state")
    assert caught.value.error == "invalid_token"


def test_refresh_rotation_against_the_portal(control, store):
    """Expired access tokens twice over: each refresh sends the latest refresh token, once."""
    store.save(Credentials.from_token_response(control.token(expires_in=60)))
    recorder = Recording()
    session = PortalSession(Transport(control.url, session_with(recorder)), store)
    for _ in range(2):
        control.advance(3601)  # past the access token's expiry (and the refreshed one's 3600 s)
        assert session.request("GET", "/api/billing/state").status == 200
    sent = [r.headers["x-nous-refresh-token"] for r in recorder.sent if "x-nous-refresh-token" in r.headers]
    assert len(sent) == 2 and len(set(sent)) == 2
    assert store.load().refresh_token not in sent
    # The portal agrees the spent ones are spent: presenting one again is refused (and revokes).
    reuse = Transport(control.url).request
    with pytest.raises(RefreshTokenReused):
        reuse("POST", "/api/oauth/token", form={"grant_type": "refresh_token", "client_id": "hermes-cli"},
              headers={"x-nous-refresh-token": sent[0]})
