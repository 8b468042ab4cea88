"""Every answer the portal can give becomes the right typed error, or a typed network_error."""

from __future__ import annotations

import socket
import time
from decimal import Decimal

import pytest
import requests

from client import errors
from client.errors import NetworkError, PortalError
from client.transport import Transport

from tests.client.stubs import Scripted, session_with

BASE = "http://portal.test"


def answer(status: int, body, headers: dict[str, str] | None = None, method: str = "POST", path: str = "/api/x"):
    transport = Transport(BASE, session_with(Scripted({f"{method} {path}": [(status, body, headers or {})]})))
    return transport.request(method, path)


def refusal(status: int, body, headers: dict[str, str] | None = None) -> PortalError:
    with pytest.raises(PortalError) as caught:
        answer(status, body, headers)
    return caught.value


@pytest.mark.parametrize("status,code,cls", [
    (400, "validation_failed", errors.ValidationFailed),
    (400, "amount_out_of_bounds", errors.AmountOutOfBounds),
    (400, "idempotency_key_required", PortalError),
    (401, "invalid_token", errors.AuthError),
    (401, "session_revoked", errors.SessionRevoked),
    (403, "insufficient_scope", errors.ScopeRequired),
    (403, "remote_spending_revoked", errors.SpendingRevoked),
    (403, "role_required", errors.RoleRequired),
    (403, "cli_billing_disabled", errors.BillingDisabled),
    (403, "no_payment_method", errors.NoPaymentMethod),
    (403, "monthly_cap_exceeded", errors.CapExceeded),
    (409, "idempotency_conflict", errors.IdempotencyConflict),
    (429, "rate_limited", errors.RateLimited),
    (429, "slow_your_roll", errors.Transient),
    (503, "temporarily_unavailable", errors.Unavailable),
    (503, "stripe_unavailable", errors.StripeUnavailable),
    (500, "stripe_unavailable", errors.StripeUnavailable),  # typed by its code, whatever the status
    (429, "upgrade_cap_exceeded", errors.UpgradeCapExceeded),
    (400, "upgrade_cap_exceeded", errors.UpgradeCapExceeded),
    (422, "preview_rejected", errors.PreviewRejected),
    (422, "subscription_mutation_rejected", errors.MutationRejected),
    (402, "no_usable_credits", errors.NoUsableCredits),
    (404, "model_not_found", errors.ModelNotFound),
    (400, "refresh_token_reused", errors.RefreshTokenReused),
    (400, "access_denied", errors.OAuthError),
    (400, "expired_token", errors.OAuthError),
    (400, "invalid_client", errors.OAuthError),
    (418, "teapot", PortalError),
])
def test_status_and_code_pick_the_class(status, code, cls):
    error = refusal(status, {"error": code, "message": f"about {code}"})
    assert type(error) is cls
    assert (error.status, error.error, error.message) == (status, code, f"about {code}")
    assert error.payload == {"error": code, "message": f"about {code}"}


def test_session_revoked_is_an_auth_error_and_rate_limited_is_transient():
    assert issubclass(errors.SessionRevoked, errors.AuthError)
    assert issubclass(errors.RateLimited, errors.Transient)
    assert issubclass(errors.Unavailable, errors.Transient)
    assert issubclass(errors.StripeUnavailable, errors.Unavailable)
    assert issubclass(errors.UpgradeCapExceeded, errors.Transient)


@pytest.mark.parametrize("status,code,cls", [
    (401, "invalid_token", errors.AuthError),
    (402, "no_usable_credits", errors.NoUsableCredits),
    (404, "model_not_found", errors.ModelNotFound),
    (429, "rate_limited", errors.RateLimited),
    (400, "validation_failed", errors.ValidationFailed),
])
def test_the_inference_apis_openai_shaped_errors_are_typed_alike(status, code, cls):
    body = {"error": {"message": f"about {code}", "type": "some_error", "code": code}}
    error = refusal(status, body, {"Retry-After": "9", "x-ratelimit-remaining-requests": "0"})
    assert type(error) is cls
    assert (error.status, error.error, error.message, error.retry_after) == (status, code, f"about {code}", 9)
    assert error.headers["x-ratelimit-remaining-requests"] == "0"


def test_an_openai_shaped_error_without_a_code_is_named_by_its_type():
    error = refusal(500, {"error": {"message": "upstream", "type": "server_error"}})
    assert (error.error, error.message) == ("server_error", "upstream")


def test_oauth_errors_carry_their_description_as_message():
    error = refusal(400, {"error": "access_denied", "error_description": "The user said no."})
    assert (error.error, error.message) == ("access_denied", "The user said no.")


def test_extras_stay_in_the_payload():
    error = refusal(403, {"error": "monthly_cap_exceeded", "message": "m", "remainingUsd": "12.5",
                          "isDefaultCeiling": True, "portalUrl": "/billing"})
    assert error.payload["remainingUsd"] == "12.5"
    assert error.payload["isDefaultCeiling"] is True


@pytest.mark.parametrize("relative,absolute", [("/billing", BASE + "/billing"),
                                               ("/billing?topup=open", BASE + "/billing?topup=open")])
def test_relative_portal_url_is_resolved_against_the_base_url(relative, absolute):
    assert refusal(403, {"error": "no_payment_method", "message": "m", "portalUrl": relative}).portal_url == absolute


def test_no_portal_url_is_none():
    assert refusal(400, {"error": "validation_failed", "message": "m"}).portal_url is None


@pytest.mark.parametrize("header,seconds", [("7", 7), ("0", 0), (" 12 ", 12), ("soon", None), ("-3", None),
                                            ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("1.5", None)])
def test_retry_after_is_whole_seconds_from_the_header(header, seconds):
    error = refusal(429, {"error": "rate_limited", "message": "m"}, {"Retry-After": header})
    assert error.retry_after == seconds


def test_no_retry_after_header_is_none():
    assert refusal(503, {"error": "temporarily_unavailable", "message": "m"}).retry_after is None


def test_a_json_error_without_a_code_gets_one_from_the_status():
    assert refusal(500, {"detail": "boom"}).error == "http_500"


@pytest.mark.parametrize("status,body,content_type", [
    (200, "<html><body>Sign in</body></html>", "text/html"),
    (200, "", "application/json"),
    (200, b"", "text/plain"),
    (200, "[1, 2]", "application/json"),
    (200, "not json", "application/json"),
    (200, b"\xff\xfe", "application/json"),
    (502, "<html>Bad gateway</html>", "text/html"),
    (503, "", "text/plain"),
])
def test_answers_that_are_not_a_json_object_are_network_errors(status, body, content_type):
    error = refusal(status, body, {"Content-Type": content_type})
    assert type(error) is NetworkError
    assert (error.error, error.status) == ("network_error", status)


@pytest.mark.parametrize("failure", [requests.ConnectTimeout("slow"), requests.ReadTimeout("slow"),
                                     requests.ConnectionError("reset"), requests.exceptions.ChunkedEncodingError("cut")])
def test_transport_exceptions_become_network_errors(failure):
    transport = Transport(BASE, session_with(Scripted({"GET /api/x": [failure]})))
    with pytest.raises(NetworkError) as caught:
        transport.request("GET", "/api/x")
    assert caught.value.error == "network_error"
    assert caught.value.status is None


def test_connection_refused_is_a_network_error():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as caught:
        Transport(f"http://127.0.0.1:{port}").request("GET", "/api/billing/state")
    assert caught.value.error == "network_error"


def test_a_stalled_portal_is_a_network_error(control):
    control.fault("GET", "/api/billing/state", None, "stall", delay_ms=600)
    with pytest.raises(NetworkError):
        Transport(control.url, timeout=0.2).request("GET", "/api/billing/state")
    # Let the stalled request finish before the next test resets the portal under it.
    deadline = time.monotonic() + 5
    while not control.journal(method="GET", path_prefix="/api/billing/state") and time.monotonic() < deadline:
        time.sleep(0.05)


def test_success_is_the_json_object_with_decimal_numbers():
    reply = answer(200, '{"balanceUsd": "142.5", "n": 0.1, "k": 2}', {"Content-Type": "application/json"},
                   method="GET")
    assert reply.body == {"balanceUsd": "142.5", "n": Decimal("0.1"), "k": 2}
    assert isinstance(reply.body["n"], Decimal)


def test_requests_carry_bearer_json_numbers_and_no_redirects():
    adapter = Scripted({"POST /api/billing/charge": [(202, {"chargeId": "ch_1"}, {})],
                        "GET /api/billing/state": [(302, "", {"Location": "/login"})]})
    transport = Transport(BASE + "/", session_with(adapter))
    transport.request("POST", "/api/billing/charge", token="tok", json_body={"amountUsd": Decimal("25.50")},
                      headers={"Idempotency-Key": "key-1"})
    sent = adapter.sent[0]
    assert sent.url == BASE + "/api/billing/charge"
    assert sent.headers["Authorization"] == "Bearer tok"
    assert sent.headers["Idempotency-Key"] == "key-1"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == b'{"amountUsd": 25.50}'
    with pytest.raises(NetworkError):
        transport.request("GET", "/api/billing/state")  # a redirect is not followed, and not JSON


def test_real_portal_errors_map_end_to_end(control, login):
    api = login("member@acme.test")
    with pytest.raises(errors.RoleRequired) as caught:
        api.charge(Decimal("25"), "key-1")
    assert caught.value.portal_url == control.url + "/billing"
