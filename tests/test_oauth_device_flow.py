"""The device flow (CONTRACT.md section 6): codes, polling, approval, downscoping, the account."""

from __future__ import annotations

import re

import jwt
import pytest

from tests.conftest import BILLING, DEVICE_GRANT
from mockportal.domain.tokens import KNOWN_CLIENTS
from mockportal.testing import ControlError

LOGIN_SCOPE = "inference:invoke tool:invoke"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def oauth_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.json
    assert response.content_type == "application/json"
    assert set(response.json) == {"error", "error_description"}, response.json
    assert response.json["error"] == error


# -- starting a login ---------------------------------------------------------------------------
def test_device_code_answers_every_field_of_the_contract(portal):
    code = portal.start_login()
    assert set(code) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert code["expires_in"] == 600 and code["interval"] == 5
    assert USER_CODE.match(code["user_code"])
    assert code["verification_uri"] == "http://localhost/device"
    assert code["verification_uri_complete"] == f"http://localhost/device?user_code={code['user_code']}"


def test_verification_uris_are_absolute_on_the_host_the_client_called(client):
    response = client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"},
                           base_url="http://127.0.0.1:8765")
    assert response.json["verification_uri"] == "http://127.0.0.1:8765/device"
    assert response.json["verification_uri_complete"].startswith("http://127.0.0.1:8765/device?user_code=")


def test_every_login_gets_its_own_codes(portal):
    first, second = portal.start_login(), portal.start_login()
    assert first["device_code"] != second["device_code"]
    assert first["user_code"] != second["user_code"]


def test_unknown_client_is_invalid_client(client):
    oauth_error(client.post("/api/oauth/device/code", data={"client_id": "evil-cli"}), 400, "invalid_client")


def test_missing_client_id_is_invalid_request(client):
    oauth_error(client.post("/api/oauth/device/code", data={"scope": BILLING}), 400, "invalid_request")


# -- polling ------------------------------------------------------------------------------------
def test_polling_before_a_decision_is_authorization_pending(portal):
    code = portal.start_login()
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")
    portal.advance(1)
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")


@pytest.mark.parametrize("gap", [0, 0.5, 0.7])
def test_polling_faster_than_once_a_second_is_slow_down(portal, gap):
    code = portal.start_login()
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")
    portal.advance(gap)
    oauth_error(portal.poll(code["device_code"]), 400, "slow_down")


@pytest.mark.parametrize("gap", [0.9, 1, 5])
def test_a_client_polling_every_second_is_never_slowed_down(portal, gap):
    """Real clients sleep 1 s between polls; a little scheduling jitter must not trip it."""
    code = portal.start_login()
    for _ in range(5):
        oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")
        portal.advance(gap)


def test_the_gap_is_measured_from_the_previous_poll_even_a_slowed_one(portal):
    code = portal.start_login()
    portal.poll(code["device_code"])
    portal.advance(0.5)
    oauth_error(portal.poll(code["device_code"]), 400, "slow_down")
    portal.advance(0.5)
    oauth_error(portal.poll(code["device_code"]), 400, "slow_down")
    portal.advance(1)
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")


def test_an_approved_login_is_answered_however_fast_the_terminal_polls(portal):
    code = portal.start_login()
    portal.poll(code["device_code"])
    portal.approve(code["user_code"])
    assert portal.poll(code["device_code"]).status_code == 200


def test_approval_yields_a_token_response_with_a_signed_jwt(portal):
    code = portal.start_login()
    portal.approve(code["user_code"], "owner@acme.test", allow_billing=True)
    response = portal.poll(code["device_code"])
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == BILLING
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    assert claims["sub"] == "owner@acme.test" and claims["org_id"] == "org_acme"
    assert claims["client_id"] == "hermes-cli" and claims["scope"] == BILLING
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]


def test_a_device_code_is_redeemed_once(portal):
    code = portal.start_login()
    portal.approve(code["user_code"])
    assert portal.poll(code["device_code"]).status_code == 200
    portal.advance(1)
    oauth_error(portal.poll(code["device_code"]), 400, "invalid_grant")


def test_a_denied_login_is_access_denied(portal):
    code = portal.start_login()
    portal.deny(code["user_code"])
    oauth_error(portal.poll(code["device_code"]), 400, "access_denied")
    portal.advance(1)
    oauth_error(portal.poll(code["device_code"]), 400, "access_denied")


def test_a_code_expires_after_600_seconds_of_portal_time(portal):
    code = portal.start_login()
    portal.advance(599)
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")
    portal.advance(1)
    oauth_error(portal.poll(code["device_code"]), 400, "expired_token")
    with pytest.raises(ControlError) as refused:
        portal.approve(code["user_code"])
    assert refused.value.status == 409 and refused.value.body["error"] == "user_code_expired"


def test_an_approved_code_not_collected_in_time_expires(portal):
    code = portal.start_login()
    portal.approve(code["user_code"])
    portal.advance(600)
    oauth_error(portal.poll(code["device_code"]), 400, "expired_token")


def test_an_unknown_device_code_is_invalid_grant(portal):
    oauth_error(portal.poll("dc_not-a-real-code"), 400, "invalid_grant")


def test_an_unregistered_client_cannot_poll(portal):
    code = portal.start_login()
    portal.approve(code["user_code"])
    oauth_error(portal.poll(code["device_code"], client_id="other-cli"), 400, "invalid_client")
    assert portal.poll(code["device_code"]).status_code == 200


def test_a_device_code_is_only_good_for_the_client_that_asked(portal, monkeypatch):
    monkeypatch.setitem(KNOWN_CLIENTS, "other-cli", "Other CLI")
    code = portal.start_login()
    portal.approve(code["user_code"])
    oauth_error(portal.poll(code["device_code"], client_id="other-cli"), 400, "invalid_grant")
    assert portal.poll(code["device_code"]).status_code == 200


def test_a_reset_forgets_device_codes(portal):
    code = portal.start_login()
    portal.reset("demo")
    oauth_error(portal.poll(code["device_code"]), 400, "invalid_grant")
    with pytest.raises(ControlError) as refused:
        portal.approve(code["user_code"])
    assert refused.value.status == 404


# -- the token endpoint's other errors ----------------------------------------------------------
@pytest.mark.parametrize("form, error", [
    ({"grant_type": "password", "client_id": "hermes-cli"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code", "client_id": "hermes-cli", "code": "x"}, "unsupported_grant_type"),
    ({"client_id": "hermes-cli", "device_code": "x"}, "invalid_request"),
    ({"grant_type": DEVICE_GRANT, "device_code": "x"}, "invalid_request"),
    ({"grant_type": DEVICE_GRANT, "client_id": "hermes-cli"}, "invalid_request"),
    ({"grant_type": DEVICE_GRANT, "client_id": "evil-cli", "device_code": "x"}, "invalid_client"),
    ({"grant_type": DEVICE_GRANT, "client_id": ["hermes-cli", "hermes-cli"], "device_code": "x"},
     "invalid_request"),
])
def test_token_endpoint_refusals(client, form, error):
    oauth_error(client.post("/api/oauth/token", data=form), 400, error)


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/device/code"])
@pytest.mark.parametrize("body, content_type", [
    (b'{"grant_type": "refresh_token", "client_id": "hermes-cli"}', "application/json"),
    (b"\xff\xfe\xfa=\xc3(", "application/x-www-form-urlencoded"),
    (b"grant_type=%ZZ&client_id=%", "application/x-www-form-urlencoded"),
    (b"", None),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    (b"a=" + b"x" * (65 * 1024), "application/x-www-form-urlencoded"),
])
def test_malformed_forms_get_a_json_4xx_never_a_5xx(client, path, body, content_type):
    response = client.post(path, data=body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.data[:200]
    assert response.content_type == "application/json"
    assert set(response.json) == {"error", "error_description"}


def test_oversize_form_is_payload_too_large(client):
    response = client.post("/api/oauth/token", data={"grant_type": "x" * (65 * 1024)})
    oauth_error(response, 413, "payload_too_large")


def test_wrong_method_is_json(client):
    response = client.get("/api/oauth/token")
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"


# -- silent downscope ---------------------------------------------------------------------------
@pytest.mark.parametrize("user, allow, scope", [
    ("owner@acme.test", True, BILLING),
    ("admin@acme.test", True, BILLING),
    ("finance@acme.test", True, BILLING),
    ("owner@acme.test", False, LOGIN_SCOPE),
    ("finance@acme.test", False, LOGIN_SCOPE),
    ("security@acme.test", True, LOGIN_SCOPE),
    ("member@acme.test", True, LOGIN_SCOPE),
])
def test_billing_manage_needs_a_billing_role_and_the_tick(portal, user, allow, scope):
    code = portal.start_login(BILLING)
    approved = portal.approve(code["user_code"], user, allow_billing=allow)
    assert approved == {"ok": True, "scope": scope}
    body = portal.poll(code["device_code"]).json
    assert body["scope"] == scope
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["scope"] == scope


def test_a_downscoped_token_cannot_charge_and_a_full_one_can(portal):
    downscoped = portal.login("owner@acme.test", allow_billing=False)
    response = portal.charge({"Authorization": "Bearer " + downscoped["access_token"]}, key="k-down")
    assert response.status_code == 403 and response.json["error"] == "insufficient_scope"
    full = portal.login("owner@acme.test", allow_billing=True)
    assert portal.charge({"Authorization": "Bearer " + full["access_token"]}, key="k-full").status_code == 202


def test_the_tick_never_adds_a_scope_the_terminal_did_not_ask_for(portal):
    body = portal.login("owner@acme.test", allow_billing=True, scope=LOGIN_SCOPE)
    assert body["scope"] == LOGIN_SCOPE


def test_a_login_without_scope_asks_for_the_normal_login_scopes(portal):
    code = portal.start_login(scope=None)
    portal.approve(code["user_code"], allow_billing=True)
    assert portal.poll(code["device_code"]).json["scope"] == LOGIN_SCOPE


def test_unknown_scopes_asked_for_are_dropped(portal):
    assert portal.login(scope="inference:invoke admin:everything")["scope"] == "inference:invoke"


@pytest.mark.parametrize("scope", ["admin:everything", "billing inference", "INFERENCE:INVOKE", "\u00e9"])
def test_a_login_asking_only_for_unknown_scopes_is_invalid_scope(portal, scope):
    """RFC 6749 section 5.2: rather than a login for nothing, which the terminal would take for
    what it asked."""
    response = portal.client.post("/api/oauth/device/code", data={"client_id": "hermes-cli", "scope": scope})
    assert response.status_code == 400 and response.json["error"] == "invalid_scope", response.json
    assert "inference:invoke" in response.json["error_description"]


def test_the_approving_users_org_is_the_tokens_org(portal):
    body = portal.login("owner@globex.test")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["org_id"] == "org_globex"
    headers = {"Authorization": "Bearer " + body["access_token"]}
    assert portal.state(headers)["org"]["id"] == "org_globex"
    account = portal.client.get("/api/oauth/account", headers=headers).json
    assert account["organisation"] == {"id": "org_globex", "slug": "globex", "name": "Globex"}
    assert account["user"]["email"] == "owner@globex.test"


# -- the control plane's approve and deny -------------------------------------------------------
@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}", "  {spaced} "])
def test_user_codes_match_case_insensitively_ignoring_dash_and_spaces(portal, typed):
    code = portal.start_login()
    user_code = code["user_code"]
    entered = typed.format(code=user_code, lower=user_code.lower(), bare=user_code.replace("-", ""),
                           spaced=user_code.replace("-", " ").lower())
    portal.approve(entered)
    assert portal.poll(code["device_code"]).status_code == 200


@pytest.mark.parametrize("body, status, error", [
    ({"userCode": "BCDF-GHJK", "user": "owner@acme.test"}, 404, "unknown_user_code"),
    ({"userCode": "not a code", "user": "owner@acme.test"}, 404, "unknown_user_code"),
    ({"userCode": None, "user": "owner@acme.test"}, 400, "validation_failed"),
    ({"user": "owner@acme.test"}, 400, "validation_failed"),
    ({"userCode": "{code}", "user": 7}, 400, "validation_failed"),
    ({"userCode": "{code}", "user": "owner@acme.test", "allowTerminalBilling": "yes"}, 400, "validation_failed"),
    ({"userCode": "{code}", "user": "nobody@acme.test"}, 404, "unknown_user"),
])
def test_control_approve_refusals(portal, body, status, error):
    code = portal.start_login()
    body = {k: v.format(code=code["user_code"]) if isinstance(v, str) else v for k, v in body.items()}
    response = portal.client.post("/_mock/device/approve", json=body)
    assert response.status_code == status and response.json["error"] == error
    oauth_error(portal.poll(code["device_code"]), 400, "authorization_pending")


@pytest.mark.parametrize("first", ["approve", "deny"])
@pytest.mark.parametrize("second", ["approve", "deny"])
def test_a_decided_code_cannot_be_decided_again(portal, first, second):
    code = portal.start_login()
    body = {"userCode": code["user_code"], "user": "owner@acme.test"}
    assert portal.client.post(f"/_mock/device/{first}", json=body).status_code == 200
    response = portal.client.post(f"/_mock/device/{second}", json=body)
    assert response.status_code == 409 and response.json["error"] == "user_code_used"


def test_control_deny_needs_a_user_code(client):
    response = client.post("/_mock/device/deny", json={})
    assert response.status_code == 400 and response.json["error"] == "validation_failed"


# -- the account ----------------------------------------------------------------------------------
def test_account_names_the_tokens_user_and_org(portal):
    body = portal.login("finance@acme.test")
    response = portal.client.get("/api/oauth/account",
                                 headers={"Authorization": "Bearer " + body["access_token"]})
    assert response.status_code == 200
    assert response.json["user"]["email"] == "finance@acme.test"
    assert response.json["organisation"] == {"id": "org_acme", "slug": "acme", "name": "Acme Inc"}


def test_account_needs_a_valid_token(client):
    response = client.get("/api/oauth/account")
    assert response.status_code == 401 and response.json["error"] == "invalid_token"
    response = client.get("/api/oauth/account", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401 and response.json["error"] == "invalid_token"


def test_account_needs_no_scope(portal):
    headers = portal.bearer("member@acme.test", scope="inference:invoke")
    assert portal.client.get("/api/oauth/account", headers=headers).json["user"]["email"] == "member@acme.test"
