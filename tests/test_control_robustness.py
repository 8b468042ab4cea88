"""The four classes of 500 the control plane had, and their siblings across the app: digits that
only Unicode calls digits, secrets compared as non-ASCII text, lone surrogates that no store can
encode, and instants no calendar can print. Each is a 4xx JSON answer now, never a 5xx."""

from __future__ import annotations

import io
import re

import pytest
import requests

from client.errors import PortalError
from client.journeys import genuine_limit
from client.transport import retry_after
from mockportal import create_app
from mockportal.domain.clock import LATEST, iso, parse_iso
from mockportal.errors import InvalidRequest
from mockportal.serving import WholeBodies
from mockportal.testing import TEST_EPOCH, PortalServer
from mockportal.wire import decode_json, parse_money

UNICODE_DIGITS = ["\u00b2", "\u0663", "\u00b9\u00b2", "\uff11", "1\u00b2"]  # ², ٣ (Arabic 3), ¹², １ (fullwidth), 1²


def _refused(response, status: int = 400, code: str = "validation_failed") -> None:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json" and response.json["error"] == code, response.json


# -- digits ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", UNICODE_DIGITS + ["", "-1", "1e3", "1.0", " 5", "0x10", "\u0000"])
def test_a_journal_limit_that_is_not_ascii_digits_is_400(client, limit):
    _refused(client.get("/_mock/requests", query_string={"limit": limit}))


@pytest.mark.parametrize("limit, entries", [("0", 0), ("007", 2), ("9" * 5000, 2), ("00000000000000000000001", 1)])
def test_a_journal_limit_in_ascii_digits_is_read_whatever_its_length(portal, client, limit, entries):
    client.get("/openapi.json")
    client.get("/openapi.json")
    response = client.get("/_mock/requests", query_string={"limit": limit})
    assert response.status_code == 200 and len(response.json["requests"]) == entries


@pytest.mark.parametrize("last4", ["\u00b9\u00b2\u00b3\u2074", "\u0661\u0662\u0663\u0664", "\uff11\uff12\uff13\uff14"])
def test_a_card_whose_last4_are_unicode_digits_is_refused(portal, last4):
    before = portal.org()
    response = portal.client.patch("/_mock/orgs/org_acme", json={"card": {"brand": "visa", "last4": last4}})
    _refused(response)
    assert portal.org() == before


@pytest.mark.parametrize("text", ["\u0663", "\uff15", "1_000", " 5", "5 ", "\u00b2"])
def test_control_plane_money_is_ascii_decimal_text(text):
    with pytest.raises(InvalidRequest, match="decimal amount"):
        parse_money(text, "balanceUsd")


def test_the_reference_client_reads_a_retry_after_of_unicode_digits_as_absent():
    assert [retry_after({"Retry-After": value}) for value in ("\u00b2", "\u0663", "7")] == [None, None, 7]


def test_the_gunicorn_body_reader_takes_a_content_length_of_unicode_digits_as_no_number():
    seen = []
    reader = WholeBodies(lambda environ, start: seen.append(environ["CONTENT_LENGTH"]) or [], max_bytes=10)
    reader({"wsgi.input": io.BytesIO(b"x"), "CONTENT_LENGTH": "\u00b2"}, None)
    assert seen == ["\u00b2"]


def test_the_reference_client_reads_a_rate_limit_reset_of_unicode_digits_as_no_limit():
    error = PortalError(429, "rate_limited", "slow down", headers={"x-ratelimit-remaining-requests": "0",
                                                                    "x-ratelimit-reset-requests": "6\u0660"})
    assert genuine_limit(error) is False


@pytest.mark.parametrize("status", ["1\u00b2\u00b3", "4\u0663\u0663", "\uff14\uff10\uff14"])
def test_a_journal_status_filter_of_unicode_digits_is_400(client, status):
    response = client.get("/_mock/dashboard/data.json", query_string={"status": status})
    assert response.status_code == 400, response.data[:300]


def _dashboard_csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/_mock/").get_data(as_text=True)).group(1)


@pytest.mark.parametrize("seconds", ["\u00b2", "6\u0660", "\uff16\uff10"])
def test_a_dashboard_clock_move_of_unicode_digits_is_400(portal, client, seconds):
    response = client.post("/_mock/dashboard/clock", data={"csrf_token": _dashboard_csrf(client), "seconds": seconds})
    assert response.status_code == 400, response.data[:300]
    assert portal.now() == TEST_EPOCH


# -- secrets --------------------------------------------------------------------------------------
@pytest.fixture
def guarded():
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_TOKEN": "s3cret"}).test_client()


@pytest.mark.parametrize("authorization", ["Bearer s3cr\u00e9t", "Bearer \u00e9", "\u00e9", "Bearer s3cret\u00a0",
                                           "Bearer \u20ac", "Bearer s3cret\u00b2"])
def test_a_non_ascii_authorization_is_401_against_a_control_token(guarded, authorization):
    _refused(guarded.get("/_mock/clock", headers={"Authorization": authorization}), 401, "control_token_required")


@pytest.mark.parametrize("token", ["t\u00f6k\u00e9n", "t\udcff"])  # the second: undecodable bytes on argv
@pytest.mark.parametrize("authorization", ["Bearer \u00e9", "Bearer t\u00f6k\u00e9n", "Bearer \u00b2"])
def test_the_dashboard_compares_any_control_token_with_any_authorization(token, authorization):
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_TOKEN": token}).test_client()
    assert client.get("/_mock/", headers={"Authorization": authorization}).status_code < 500
    assert client.get("/_mock/", query_string={"token": token.encode("utf-8", "surrogatepass")
                                               .decode("utf-8", "replace")}).status_code < 500
    assert client.get("/_mock/clock", headers={"Authorization": authorization}).status_code == 401


def test_a_non_ascii_control_token_is_matched_by_its_utf8_bytes():
    with PortalServer(control_token="t\u00f6k\u00e9n") as server:
        sent = b"Bearer " + "t\u00f6k\u00e9n".encode("utf-8")
        assert requests.get(server.url + "/_mock/clock", headers={"Authorization": sent}, timeout=10).status_code == 200
        latin1 = requests.get(server.url + "/_mock/clock", timeout=10,
                              headers={"Authorization": "Bearer t\u00f6k\u00e9n".encode("latin-1")})
        assert latin1.status_code == 401


# -- lone surrogates ------------------------------------------------------------------------------
LONE = '"\\ud800"'
SURROGATE_BODIES = [
    ("POST", "/_mock/reset", '{"scenario": %s}'),
    ("POST", "/_mock/reset", '{"orgs": [{"id": %s, "users": []}]}'),
    ("POST", "/_mock/tokens", '{"user": %s}'),
    ("POST", "/_mock/tokens", '{"user": "owner@acme.test", "scope": %s}'),
    ("POST", "/_mock/device/approve", '{"userCode": %s, "user": "owner@acme.test"}'),
    ("POST", "/_mock/device/deny", '{"userCode": %s}'),
    ("PATCH", "/_mock/orgs/org_acme", '{"name": %s}'),
    ("PATCH", "/_mock/orgs/org_acme", '{"balanceUsd": %s}'),
    ("PATCH", "/_mock/orgs/org_acme", '{"card": {"brand": %s, "last4": "4242"}}'),
    ("PATCH", "/_mock/users/owner@acme.test", '{"role": %s}'),
    ("POST", "/_mock/orgs/org_acme/outcomes", '{"outcome": "fail", "reason": %s}'),
    ("POST", "/_mock/orgs/org_acme/usage", '{"amountUsd": %s}'),
    ("POST", "/_mock/faults", '{"path": %s, "status": 503}'),
    ("POST", "/_mock/faults", '{"path": "/x", "status": 503, "message": %s}'),
    ("POST", "/_mock/faults", '{"path": "/x", "status": 503, "error": %s}'),
    ("POST", "/_mock/revocations", '{"kind": "session", "token": %s}'),
    ("POST", "/_mock/revocations", '{"kind": "session", "user": %s}'),
    ("POST", "/_mock/inference/replies", '{"org": "org_acme", "replies": [{"content": %s}]}'),
    ("POST", "/_mock/inference/replies", '{"org": %s, "replies": []}'),
    ("PATCH", "/_mock/orgs/org_acme", '{%s: 1}'),
]


@pytest.mark.parametrize("surrogate", [LONE, '"\\udfff"', '"a\\ud83d"', '"\\ude00x"', '"\\uDBFF"'])
@pytest.mark.parametrize("method, path, template", SURROGATE_BODIES)
def test_a_lone_surrogate_in_any_control_plane_string_is_invalid_json(portal, client, method, path, template,
                                                                       surrogate):
    before = portal.org()
    response = client.open(path, method=method, data=template % surrogate, content_type="application/json")
    _refused(response, 400, "invalid_json")
    assert portal.org() == before
    assert client.get("/_mock/requests").status_code == 200


def test_a_lone_surrogate_in_a_public_body_is_invalid_json_too(portal, client):
    response = portal.charge(portal.bearer(), raw=b'{"amountUsd": 25, "note": "\\ud800"}')
    _refused(response, 400, "invalid_json")


@pytest.mark.parametrize("raw", [b'"\\ud800"', b'["\\ud800"]', b'{"\\ud800": 1}', b'{"a": [{"b": "x\\udc00"}]}',
                                 b'{"a": "\\\\\\ud800"}'])
def test_the_decoder_refuses_lone_surrogates_wherever_they_are(raw):
    with pytest.raises(InvalidRequest) as caught:
        decode_json(raw)
    assert caught.value.code == "invalid_json" and "surrogate" in caught.value.message


@pytest.mark.parametrize("raw, value", [(b'"\\ud83d\\ude00"', "\U0001f600"), (b'"\\\\ud800"', "\\ud800"),
                                        (b'{"a": "\\u00e9"}', {"a": "\u00e9"})])
def test_the_decoder_keeps_pairs_and_escaped_backslashes(raw, value):
    assert decode_json(raw) == value


# -- instants ---------------------------------------------------------------------------------------
def test_the_clock_stops_at_its_bound_and_every_instant_stays_printable(portal, client):
    headers = portal.bearer(expires_in=10**8)
    moves = [client.post("/_mock/clock", json={"advanceSeconds": 1e9}) for _ in range(260)]
    refused = [response for response in moves if response.status_code != 200]
    assert refused, "the clock moved past year 9999"
    _refused(refused[0])
    assert "9000-01-01T00:00:00Z" in refused[0].json["message"]
    now = client.get("/_mock/clock").json
    assert now["epoch"] <= LATEST and now["now"] == iso(now["epoch"])
    assert client.get("/api/billing/state", headers=headers).status_code in (200, 401)
    assert client.get("/_mock/orgs/org_acme").status_code == 200
    assert client.get("/_mock/requests").status_code == 200
    assert client.post("/_mock/clock", json={"advanceSeconds": LATEST - now["epoch"]}).json["now"] == iso(LATEST)
    _refused(client.post("/_mock/clock", json={"advanceSeconds": 1}))


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59Z", "9000-01-01T00:00:01Z", "1969-12-31T23:59:59Z",
                                  "0001-01-01T00:00:00Z"])
def test_an_instant_outside_the_clock_bounds_is_refused(portal, text):
    with pytest.raises(ValueError, match="between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"):
        parse_iso(text)
    _refused(portal.client.patch("/_mock/orgs/org_pat", json={"subscription": {"periodStart": text}}))


@pytest.mark.parametrize("frozen_at", [LATEST + 1, -1.0])
def test_a_clock_frozen_outside_its_bounds_is_refused_at_startup(frozen_at):
    with pytest.raises(ValueError, match="9000-01-01T00:00:00Z"):
        create_app({"FROZEN_CLOCK_AT": frozen_at})


def test_an_instant_without_a_zone_is_utc():
    assert parse_iso("2026-06-10T12:00:00") == TEST_EPOCH == parse_iso("2026-06-10T14:00:00+02:00")
