"""Robustness: whatever a client sends (odd methods, ids, headers, content types, broken or
oversize bodies), the portal answers a documented JSON answer, never a 5xx, and changes nothing.

Every answer must conform to the OpenAPI document: an error code of the operation's documented
statuses, or the contract's success shape (a read with a good token succeeds whatever junk
rides along); a path the document does not describe answers a JSON 404 or 405.

The control plane gets the same treatment against README's list of its errors: each example
spoils one part of a request it would take (a field's value, a key, the content type, the
query, a path id, a header), the clock is pushed to its bound, and a guarded control plane is
sent every kind of Authorization; the portal must answer each, and everything read next.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import requests
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract import spec
from contract.portal import bearer
from contract.profiles import examples
from contract.strategies import (OVERSIZE, content_types, header_values, http_methods,
                                 malformed_bodies, odd_charge_ids, odd_idempotency_keys)
from contract.world import ACME, GLOBEX, MEMBER, OWNER, world
from mockportal.domain.clock import iso
from mockportal.testing import PortalServer

ENDPOINTS = tuple((operation.method, operation.template) for operation in spec.OPERATIONS)
# A well-formed JWT signed with a key the portal never had.
FOREIGN_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJvd25lckBhY21lLnRlc3QiLCJvcmdfaWQiOiJvcmdfYWNtZSIs"
               "InNjb3BlIjoiYmlsbGluZzptYW5hZ2UiLCJleHAiOjk5OTk5OTk5OTksImp0aSI6IngifQ."
               "c2lnbmF0dXJlLW9mLWFub3RoZXItcG9ydGFs")
BAD_AUTHORIZATIONS = (None, "", "Bearer", "Bearer ", "Basic b3duZXI6cGFzcw==", "Bearer not-a-jwt",
                      f"Bearer {FOREIGN_JWT}", "Bearer a.b.c", "Token x",
                      "bearer <owner>x")  # the owner's good token with a byte appended


# Logins the control plane mints per example; a request names one as `<owner>` etc.
LOGIN_PLACEHOLDERS = {"<owner>": {}, "<member>": {"user": MEMBER}, "<no billing scope>": {"scope": "inference:invoke"}}


@dataclass(frozen=True)
class MalformedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    chunked: bool = False

    def __repr__(self) -> str:  # a shrunk counterexample must fit on a screen
        body = None if self.body is None else (self.body[:120] + (b"..." if len(self.body) > 120 else b""))
        size = "" if self.body is None else f" ({len(self.body)} bytes{', chunked' if self.chunked else ''})"
        headers = {k: (v[:60] + "..." if len(v) > 60 else v) for k, v in self.headers.items()}
        return f"{self.method} {self.path[:120]} {headers} {body!r}{size}"


@st.composite
def malformed_requests(draw, *, logins: bool) -> MalformedRequest:
    usual_method, template = draw(st.sampled_from(ENDPOINTS), label="endpoint")
    method = draw(st.just(usual_method) | http_methods)
    path = template.replace("{id}", draw(odd_charge_ids))
    headers = {}
    # Mostly the owner's good token when there is one, so requests get past auth to the body gates.
    authorization = draw(st.sampled_from(["Bearer <owner>"] * 3 + [f"Bearer {p}" for p in LOGIN_PLACEHOLDERS])
                         | st.sampled_from(BAD_AUTHORIZATIONS) if logins
                         else st.sampled_from(BAD_AUTHORIZATIONS) | header_values.map("Bearer {}".format))
    if authorization is not None:
        headers["Authorization"] = authorization
    key = draw(st.just("robust-key") | odd_idempotency_keys)
    if key is not None:
        headers["Idempotency-Key"] = key
    content_type = draw(content_types)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = draw(st.none() | malformed_bodies)
    return MalformedRequest(method, path, headers, body, chunked=body is not None and draw(st.booleans()))


def send(portal, request: MalformedRequest, tokens: dict[str, str] | None = None):
    """Send it with placeholders replaced by real tokens; the answer must conform to the document."""
    note(f"request: {request!r}")
    headers = dict(request.headers)
    for placeholder, token in (tokens or {}).items():
        headers["Authorization"] = headers.get("Authorization", "").replace(placeholder, token)
    body = iter([request.body]) if request.chunked else request.body
    response = portal.send(request.method, request.path, headers=headers, body=body, content_type=None)
    spec.assert_conforms(response)
    return response


OWNER_JSON = {"Authorization": "Bearer <owner>", "Idempotency-Key": "robust-key", "Content-Type": "application/json"}


@settings(max_examples=examples(3))
@given(request=malformed_requests(logins=False))
def test_requests_without_a_valid_token_get_a_documented_json_answer(portal, request):
    """Runs against any portal, the real one included: nothing here can authenticate."""
    send(portal, request)


def send_to_a_fresh_portal_and_assert_nothing_changed(portal, request: MalformedRequest):
    portal.reset(world())
    tokens = {placeholder: portal.access_token(**login) for placeholder, login in LOGIN_PLACEHOLDERS.items()}
    before = [portal.org(ACME), portal.org(GLOBEX)]

    response = send(portal, request, tokens)

    assert [portal.org(ACME), portal.org(GLOBEX)] == before, "a malformed request changed the portal's state"
    return response


@pytest.mark.control
@settings(max_examples=examples(3))
@given(request=malformed_requests(logins=True))
@example(MalformedRequest("GET", "/api/billing/charge/%2F", OWNER_JSON))
@example(MalformedRequest("GET", "/api/billing/charge/../x", OWNER_JSON))
@example(MalformedRequest("GET", "/api/billing/charge/" + "x" * 10_000, OWNER_JSON))
@example(MalformedRequest("POST", "/api/billing/charge", OWNER_JSON, b'{"amountUsd": NaN}'))
@example(MalformedRequest("POST", "/api/billing/charge", OWNER_JSON, b'{"amountUsd": 1e400}'))
@example(MalformedRequest("POST", "/api/billing/charge", OWNER_JSON, b'{"amountUsd": 2\xff5}'))
def test_malformed_requests_get_a_documented_json_answer_and_change_nothing(portal, request):
    send_to_a_fresh_portal_and_assert_nothing_changed(portal, request)


@pytest.mark.control
@settings(max_examples=examples(2))
@given(endpoint=st.sampled_from([("POST", "/api/billing/charge"), ("PATCH", "/api/billing/auto-top-up")]),
       body=malformed_bodies, chunked=st.booleans())
@example(endpoint=("PATCH", "/api/billing/auto-top-up"), body=b"[" * 30_000 + b"]" * 30_000, chunked=False)
def test_malformed_bodies_past_every_other_gate_are_refused_with_a_code(portal, endpoint, body, chunked):
    """An owner's token, a good key and JSON: only the body is wrong, and it is always refused."""
    method, path = endpoint
    response = send_to_a_fresh_portal_and_assert_nothing_changed(
        portal, MalformedRequest(method, path, OWNER_JSON, body, chunked))
    assert response.status_code in (400, 413), response.text


@pytest.mark.control
@settings(max_examples=examples(0.5))
@given(size=st.integers(OVERSIZE, 16 * OVERSIZE), target=st.sampled_from(["charge", "auto-top-up"]),
       chunked=st.booleans())
def test_a_body_over_64_kib_is_413_payload_too_large(portal, size, target, chunked):
    note(f"{size} byte body to {target}{' (chunked)' if chunked else ''}")
    portal.reset(world())
    body = b'{"amountUsd": 25, "pad": "' + b"x" * size + b'"}'
    method, path = ("POST", "/api/billing/charge") if target == "charge" else ("PATCH", "/api/billing/auto-top-up")
    headers = {**bearer(portal.access_token()), "Idempotency-Key": "big-1", "Content-Type": "application/json"}

    response = portal.send(method, path, headers=headers, body=iter([body]) if chunked else body)

    assert (response.status_code, spec.assert_conforms(response)["error"]) == (413, "payload_too_large")


# -- the control plane ------------------------------------------------------------------------
# It is not in the OpenAPI document (mockportal's own); README's "Control plane" lists its errors.
CONTROL_ERRORS = {
    400: {"validation_failed", "invalid_json", "unknown_scenario"},
    401: {"control_token_required"},
    404: {"not_found", "unknown_org", "unknown_user", "unknown_user_code"},
    405: {"method_not_allowed"},
    409: {"already_exists", "user_code_used", "user_code_expired"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
}
# Every control-plane operation with a body it accepts: the seed each example spoils one part of.
CONTROL_OPERATIONS = (
    ("POST", "/_mock/reset", {"scenario": "demo"}),
    ("POST", "/_mock/reset", {"fixture": world()}),
    ("POST", "/_mock/tokens", {"user": OWNER, "scope": "billing:manage", "expiresIn": 900}),
    ("POST", "/_mock/device/approve", {"userCode": "BCDF-GHJK", "user": OWNER, "allowTerminalBilling": True}),
    ("POST", "/_mock/device/deny", {"userCode": "BCDF-GHJK"}),
    ("GET", "/_mock/clock", None),
    ("POST", "/_mock/clock", {"advanceSeconds": 60}),
    ("GET", "/_mock/orgs/{org}", None),
    ("PATCH", "/_mock/orgs/{org}", {"balanceUsd": "100", "cliBillingEnabled": True, "name": "Acme",
                                    "card": {"brand": "visa", "last4": "4242"}, "monthlyCapUsd": "500",
                                    "settleAfterSeconds": 3, "kind": "team",
                                    "autoReloadCard": {"brand": "visa", "last4": "4242"}}),
    ("PATCH", "/_mock/orgs/{org}", {"subscription": {"tierId": "nous-chat-plan-20", "periodStart": "2026-06-01T00:00:00Z",
                                                     "creditsRemaining": "5", "rolloverCredits": "1",
                                                     "pendingTierId": None, "cancelAtPeriodEnd": False}}),
    ("PATCH", "/_mock/users/{user}", {"role": "ADMIN"}),
    ("POST", "/_mock/orgs/{org}/outcomes", {"outcome": "fail", "reason": "card_declined", "afterSeconds": 5,
                                            "count": 2}),
    ("POST", "/_mock/orgs/{org}/usage", {"amountUsd": "1.5"}),
    ("POST", "/_mock/faults", {"method": "GET", "path": "/openapi.json", "status": 503, "error": "down",
                               "message": "m", "retryAfter": 1, "delayMs": 0, "count": 1}),
    ("DELETE", "/_mock/faults", None),
    ("POST", "/_mock/revocations", {"kind": "spending", "user": OWNER, "actor": "admin"}),
    ("POST", "/_mock/revocations", {"kind": "session", "token": "rt_x"}),
    ("GET", "/_mock/stripe", None),
    ("POST", "/_mock/stripe", {"available": True, "retryAfter": 30}),
    ("POST", "/_mock/inference/replies", {"org": ACME, "replies": [{"content": "hi", "reasoning": "r",
                                                                    "toolCalls": [{"name": "t", "arguments": {}}],
                                                                    "chunkDelayMs": 0}]}),
    ("DELETE", "/_mock/inference/replies", {"org": ACME}),
    ("GET", "/_mock/requests", None),
    ("DELETE", "/_mock/requests", None),
    ("GET", "/_mock/dashboard/data.json", None),
)
# JSON literals no control-plane field takes as it stands: lone surrogates, digits only Unicode
# calls digits, numbers past any bound or any float, wrong types, a very long string.
ODD_LITERALS = ('"\\ud800"', '"a\\udfff"', '"\\udbff\\udbff"', '"\\u00b2"', '"\\u0663"', '"\\uff15"', '"1_000"',
                "1e400", "-1e400", "1e-400", "1" + "0" * 30, "-1", "0", "0.5", "1e9", "1000000001", "2.5e9",
                "9007199254740993", "true", "null", "[]", "{}", '""', '"x"', '"' + "x" * 10_000 + '"',
                '["\\ud800"]', '{"\\ud800": 1}', "NaN", "Infinity")
ODD_IDS = ("org_nope", "%ED%A0%80", "%C2%B2", "%00", "x" * 5000, "..%2F..%2Fx", "%C3%A9", "a%2Fb")
ODD_QUERIES = ("?limit=%C2%B2", "?limit=%D9%A3", "?limit=%EF%BC%91", "?limit=" + "9" * 5000, "?limit=-1",
               "?limit=", "?limit=1e3", "?limit=%ED%A0%80", "?limit=1&limit=2", "?%ff=%fe", "?limit=%00",
               "?status=1%C2%B2%C2%B3", "?status=4%D9%A3%D9%A3", "?status=4xx&status=5", "?status=%ED%A0%80",
               "?path=%ED%A0%80", "?path=%00", "?status=" + "4" * 5000)
JSON_WRITE_TYPES = ("application/json", "application/json; charset=utf-8")
_PLACEHOLDER = "\x00odd\x00"


def _leaves(value, path=()):
    """Every place in a JSON body a value could be swapped: (path of keys/indexes)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,)
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield path + (index,)
            yield from _leaves(item, path + (index,))


def _with_placeholder(value, path):
    if not path:
        return _PLACEHOLDER
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _with_placeholder(value[path[0]], path[1:])
    return copy


def _spoiled_body(body, path, literal: str) -> str:
    """`body` as JSON text with the value at `path` replaced by the literal text."""
    return json.dumps(_with_placeholder(body, path)).replace(json.dumps(_PLACEHOLDER), literal)


SPOILABLE = {
    "value": [op for op in CONTROL_OPERATIONS if op[2]],
    "key": [op for op in CONTROL_OPERATIONS if op[2] is not None],
    "content type": [op for op in CONTROL_OPERATIONS if op[0] != "GET"],
    "query": [op for op in CONTROL_OPERATIONS if op[1] in ("/_mock/requests", "/_mock/dashboard/data.json")],
    "path id": [op for op in CONTROL_OPERATIONS if "{" in op[1]],
    "header": list(CONTROL_OPERATIONS),
}


@st.composite
def control_requests(draw) -> MalformedRequest:
    """One control-plane request with one part spoiled: a field's value, a key, the content
    type, the query string, a path id or a header."""
    spoil = draw(st.sampled_from(sorted(SPOILABLE)), label="spoiled")
    method, template, body = draw(st.sampled_from(SPOILABLE[spoil]), label="operation")
    org = draw(st.sampled_from(ODD_IDS), label="id") if spoil == "path id" else ACME
    path = template.replace("{org}", org).replace("{user}", OWNER if org == ACME else org)
    headers = {"Content-Type": draw(st.sampled_from(JSON_WRITE_TYPES))} if method != "GET" else {}
    text = None if body is None else json.dumps(body)
    if spoil == "value":
        text = _spoiled_body(body, draw(st.sampled_from(list(_leaves(body))), label="field"),
                             draw(st.sampled_from(ODD_LITERALS), label="value"))
    elif spoil == "key":
        key = draw(st.sampled_from(['"\\ud800"', '"\\u00b2"', '"extra"', '""']), label="key")
        text = "{" + key + ": 1" + (", " + text[1:] if text != "{}" else "}")
    elif spoil == "content type":
        headers["Content-Type"] = draw(content_types.filter(lambda c: c is not None))
        if draw(st.booleans()):
            del headers["Content-Type"]
    elif spoil == "query":
        path += draw(st.sampled_from(ODD_QUERIES), label="query")
    elif spoil == "header":
        headers[draw(st.sampled_from(["Authorization", "X-Odd", "Idempotency-Key"]))] = draw(header_values)
    return MalformedRequest(method, path, headers, None if text is None else text.encode())


def assert_documented_control_answer(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text[:300]
    body = response.json()
    if response.status_code != 200:
        assert body.get("error") in CONTROL_ERRORS.get(response.status_code, ()), \
            f"undocumented control-plane answer {response.status_code}: {response.text[:300]}"


def assert_the_portal_still_answers(portal) -> None:
    """What a tester reads next: the clock, an org report, the journal, a billing read."""
    portal.clear_faults()  # a spoiled fault may have been scripted, and would answer for the portal
    for path in ("/_mock/clock", f"/_mock/orgs/{ACME}", f"/_mock/orgs/{GLOBEX}", "/_mock/requests"):
        assert_documented_control_answer(portal.send("GET", path))
    clock = portal.send("GET", "/_mock/clock").json()
    assert clock["now"] == iso(clock["epoch"])


@pytest.mark.control
@settings(max_examples=examples(3))
@given(request=control_requests())
@example(MalformedRequest("GET", "/_mock/requests?limit=%C2%B2", {}))  # str.isdigit("²")
@example(MalformedRequest("PATCH", f"/_mock/orgs/{ACME}", {"Content-Type": "application/json"}, b'{"name": "\\ud800"}'))
@example(MalformedRequest("POST", "/_mock/reset", {"Content-Type": "text/plain", "Origin": "http://evil.example"},
                          b'{"scenario": "empty"}'))
def test_malformed_control_plane_requests_get_a_documented_json_answer(portal, request):
    portal.reset(world())
    note(f"request: {request!r}")
    response = portal.send(request.method, request.path, headers=request.headers, body=request.body, content_type=None)
    assert_documented_control_answer(response)
    if request.method != "GET" and request.headers.get("Content-Type", "").split(";")[0].lower() != "application/json":
        assert response.status_code == 415, "a write that is not JSON was taken"
    assert_the_portal_still_answers(portal)


# Seconds moved at once: the largest move allowed, tiny ones, any; how many times in a row.
clock_pushes = st.lists(st.tuples(st.sampled_from([1e9, 999_999_999.5, 0.001]) | st.floats(0, 1e9),
                                  st.sampled_from([1, 30, 300])), min_size=1, max_size=3)


@pytest.mark.control
@settings(max_examples=examples(0.25))
@given(pushes=clock_pushes)
@example(pushes=[(1e9, 300)])  # past the year 9999, where no instant can be printed
def test_the_clock_can_be_pushed_to_its_bound_and_every_read_still_answers(portal, pushes):
    portal.reset(world())
    token = portal.access_token()
    portal.charge(token, "25", "before-the-push")
    for seconds, times in pushes:
        for _ in range(times):
            response = portal.send("POST", "/_mock/clock", body=json.dumps({"advanceSeconds": seconds}))
            assert_documented_control_answer(response)
            if response.status_code != 200:
                break
    assert_the_portal_still_answers(portal)
    state = portal.send("GET", "/api/billing/state", headers=bearer(token))
    spec.assert_conforms(state)  # 200, or 401 once the token has expired: never a 5xx


@pytest.fixture(scope="module")
def guarded_portal():
    """A second embedded portal whose control plane needs a token (the session's has none)."""
    if os.environ.get("HERMES_PORTAL_BASE_URL", "").strip():
        pytest.skip("needs an embedded portal started with a control token")
    with PortalServer(control_token=GUARD_TOKEN) as server:
        yield server


GUARD_TOKEN = "s3cr\u00e9t-\u2603"  # non-ASCII itself: a token is any text the tester chose


@settings(max_examples=examples(1))
@given(authorization=header_values | header_values.map("Bearer {}".format)
       | st.sampled_from(["Bearer s3cr\u00e9t", "Bearer \u00e9", "Bearer \u00b2"]))
def test_any_authorization_against_a_control_token_is_a_json_401(guarded_portal, authorization):
    note(f"Authorization: {authorization!r}")
    response = requests.get(guarded_portal.url + "/_mock/clock", headers={"Authorization": authorization},
                            timeout=30)
    assert_documented_control_answer(response)
    assert response.status_code == 401


def test_the_control_token_itself_opens_the_guarded_control_plane(guarded_portal):
    sent = b"Bearer " + GUARD_TOKEN.encode("utf-8")  # as curl sends it from a UTF-8 terminal
    assert requests.get(guarded_portal.url + "/_mock/clock", headers={"Authorization": sent}, timeout=30).ok
