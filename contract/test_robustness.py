"""Robustness: whatever a client sends (odd methods, ids, headers, content types, broken or
oversize bodies), the portal answers a documented JSON answer, never a 5xx, and changes nothing.

Every answer must conform to the OpenAPI document: an error code of the operation's documented
statuses, or the contract's success shape (a read with a good token succeeds whatever junk
rides along); a path the document does not describe answers a JSON 404 or 405.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract import spec
from contract.portal import bearer
from contract.profiles import examples
from contract.strategies import (OVERSIZE, content_types, header_values, http_methods,
                                 malformed_bodies, odd_charge_ids, odd_idempotency_keys)
from contract.world import ACME, GLOBEX, MEMBER, world

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
