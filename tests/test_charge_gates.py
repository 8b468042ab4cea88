"""POST /api/billing/charge: every gate of CONTRACT.md section 4, in order, with its extras."""

import pytest

from tests.conftest import BILLING

LOGIN = "inference:invoke tool:invoke"


def test_an_owner_with_a_card_is_accepted_with_202_and_an_opaque_charge_id(portal):
    response = portal.charge(portal.bearer(), amount="25")
    assert response.status_code == 202
    assert set(response.json) == {"chargeId"} and response.json["chargeId"].startswith("ch_")


# -- gate 1: authentication ---------------------------------------------------------------------
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer not.a.jwt",
                                           "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_missing_or_invalid_bearer_is_401_invalid_token(portal, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = portal.charge(headers)
    assert response.status_code == 401 and response.json["error"] == "invalid_token"
    assert "WWW-Authenticate" in response.headers


def test_an_expired_token_is_401_invalid_token(portal):
    headers = {"Authorization": "Bearer " + portal.token(expires_in=60)["access_token"]}
    assert portal.charge(headers).status_code == 202
    portal.advance(60)
    response = portal.charge(headers, key="key-2")
    assert response.status_code == 401 and response.json["error"] == "invalid_token"


def test_a_token_forged_with_another_secret_is_rejected(portal):
    import jwt
    forged = jwt.encode({"sub": "owner@acme.test", "org_id": "org_acme", "scope": BILLING,
                         "exp": 2**40, "jti": "x"}, "a-different-secret-of-thirty-two-bytes!", algorithm="HS256")
    response = portal.charge({"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json["error"] == "invalid_token"


def test_a_revoked_session_is_401_session_revoked_with_login_recovery(portal):
    token = portal.token()
    portal.revoke("session", token["access_token"])
    response = portal.charge({"Authorization": "Bearer " + token["access_token"]})
    assert response.status_code == 401
    assert response.json["error"] == "session_revoked" and response.json["recovery"] == "login"


# -- gate 2: scope ------------------------------------------------------------------------------
def test_a_token_without_billing_manage_is_403_insufficient_scope(portal):
    response = portal.charge(portal.bearer(scope=LOGIN))
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope" and response.json["portalUrl"] == "/billing"


def test_scope_is_checked_before_spending_revocation(portal):
    headers = portal.bearer(scope=LOGIN)
    portal.revoke("spending", user="owner@acme.test", actor="admin")
    assert portal.charge(headers).json["error"] == "insufficient_scope"


# -- gate 3: spending revoked -------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["self", "admin"])
def test_revoked_spending_is_403_with_actor_and_reconnect(portal, actor):
    token = portal.token()
    portal.revoke("spending", token["access_token"], actor=actor)
    response = portal.charge({"Authorization": "Bearer " + token["access_token"]})
    assert response.status_code == 403
    assert response.json["error"] == "remote_spending_revoked"
    assert response.json["actor"] == actor and response.json["recovery"] == "reconnect"
    assert response.json["portalUrl"].startswith("/")


def test_spending_revocation_is_per_grant(portal):
    revoked, other = portal.token(), portal.token()
    portal.revoke("spending", revoked["refresh_token"])
    assert portal.charge({"Authorization": "Bearer " + other["access_token"]}).status_code == 202


def test_spending_revocation_comes_before_role(portal):
    headers = portal.bearer("member@acme.test")
    portal.revoke("spending", user="member@acme.test")
    assert portal.charge(headers).json["error"] == "remote_spending_revoked"


# -- gate 4: role -------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["member@acme.test", "security@acme.test"])
def test_roles_that_cannot_change_plan_get_403_role_required(portal, user):
    response = portal.charge(portal.bearer(user))
    assert response.status_code == 403 and response.json["error"] == "role_required"
    assert response.json["portalUrl"] == "/billing"


@pytest.mark.parametrize("user", ["owner@acme.test", "admin@acme.test", "finance@acme.test"])
def test_billing_roles_may_charge(portal, user):
    assert portal.charge(portal.bearer(user)).status_code == 202


def test_role_comes_before_the_kill_switch(portal):
    portal.edit_org(cliBillingEnabled=False)
    assert portal.charge(portal.bearer("member@acme.test")).json["error"] == "role_required"


# -- gate 5: kill-switch ------------------------------------------------------------------------
def test_kill_switch_off_is_403_cli_billing_disabled_with_its_extras(portal):
    response = portal.charge(portal.bearer("owner@globex.test"))
    assert response.status_code == 403
    assert response.json == {
        "error": "cli_billing_disabled", "message": response.json["message"],
        "code": "remote_spending_disabled", "recovery": "enable_account_toggle", "portalUrl": "/billing"}


def test_kill_switch_comes_before_the_idempotency_key(portal):
    portal.edit_org(cliBillingEnabled=False)
    assert portal.charge(portal.bearer(), key=None).json["error"] == "cli_billing_disabled"


# -- gate 6: idempotency key --------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_or_blank_key_is_400_idempotency_key_required(portal, key):
    response = portal.charge(portal.bearer(), key=key)
    assert response.status_code == 400 and response.json["error"] == "idempotency_key_required"


@pytest.mark.parametrize("key", ["k" * 256, "tab\there", "caf\u00e9"])
def test_keys_that_are_not_1_to_255_printable_ascii_are_refused(portal, key):
    response = portal.client.post("/api/billing/charge", json={"amountUsd": 25},
                                  headers={**portal.bearer(), "Idempotency-Key": key})
    assert response.status_code == 400 and response.json["error"] == "idempotency_key_required"


def test_a_255_character_key_is_accepted(portal):
    assert portal.charge(portal.bearer(), key="k" * 255).status_code == 202


def test_key_comes_before_the_body(portal):
    response = portal.charge(portal.bearer(), key=None, raw=b"not json")
    assert response.json["error"] == "idempotency_key_required"


# -- gate 7: body -------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"", b"{}", b"[]", b"null", b'"25"', b'{"amountUsd": "25"}', b'{"amountUsd": true}',
    b'{"amountUsd": null}', b'{"amountUsd": 0}', b'{"amountUsd": -5}', b'{"amountUsd": -0}',
    b'{"amountUsd": 25.001}', b'{"amountUsd": 0.005}', b'{"amountUsd": NaN}',
    b'{"amountUsd": Infinity}', b'{"amountUsd": 25, "currency": "usd"}', b'{"amount": 25}',
    b'{"amountUsd": [25]}', b'{"amountUsd": {"value": 25}}',
])
def test_bodies_not_exactly_a_positive_two_decimal_number_are_validation_failed(portal, raw):
    response = portal.charge(portal.bearer(), raw=raw)
    assert response.status_code == 400 and response.json["error"] == "validation_failed", raw


@pytest.mark.parametrize("amount", ["9.99", "10000.01", "1e400", "100000000000000000000000000000000"])
def test_amounts_outside_bounds_are_amount_out_of_bounds(portal, amount):
    response = portal.charge(portal.bearer(), amount=amount)
    assert response.status_code == 400 and response.json["error"] == "amount_out_of_bounds"


@pytest.mark.parametrize("amount", ["10", "10000", "25.5", "25.50", "25.55", "1e1", "100.0"])
def test_amounts_within_bounds_with_at_most_two_decimals_are_accepted(portal, amount):
    portal.edit_org(monthlyCapUsd="100000")
    assert portal.charge(portal.bearer(), amount=amount).status_code == 202


def test_malformed_json_is_400_invalid_json(portal):
    response = portal.charge(portal.bearer(), raw=b'{"amountUsd": ')
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


# -- gate 9: payment method ---------------------------------------------------------------------
def test_no_saved_card_is_403_no_payment_method_pointing_at_topup(portal):
    portal.edit_org(card=None)
    response = portal.charge(portal.bearer())
    assert response.status_code == 403
    assert response.json["error"] == "no_payment_method" and response.json["portalUrl"] == "/billing?topup=open"


def test_body_validation_comes_before_the_payment_method(portal):
    portal.edit_org(card=None)
    assert portal.charge(portal.bearer(), amount="5").json["error"] == "amount_out_of_bounds"


# -- gate 10: monthly cap -----------------------------------------------------------------------
def test_a_charge_over_the_headroom_is_403_monthly_cap_exceeded_with_remaining(portal):
    headers = portal.bearer()
    assert portal.charge(headers, amount="900", key="a").status_code == 202
    response = portal.charge(headers, amount="100.01", key="b")
    assert response.status_code == 403
    assert response.json["error"] == "monthly_cap_exceeded"
    assert response.json["remainingUsd"] == "100" and response.json["isDefaultCeiling"] is True
    assert response.json["portalUrl"] == "/billing"
    assert portal.charge(headers, amount="100", key="c").status_code == 202


def test_payment_method_comes_before_the_cap(portal):
    portal.edit_org(card=None, monthlyCapUsd="0")
    assert portal.charge(portal.bearer()).json["error"] == "no_payment_method"


def test_cap_comes_before_the_rate_limit(portal):
    headers = portal.bearer()
    for index in range(5):
        assert portal.charge(headers, amount="10", key=f"k{index}").status_code == 202
    portal.edit_org(monthlyCapUsd="60")
    assert portal.charge(headers, amount="20", key="over").json["error"] == "monthly_cap_exceeded"
