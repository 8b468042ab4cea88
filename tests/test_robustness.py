"""Bad input never yields a 5xx, a traceback, HTML or a redirect: always a 4xx JSON error code."""

import pytest

ROUTES = [("GET", "/api/billing/state"), ("POST", "/api/billing/charge"),
          ("GET", "/api/billing/charge/ch_x"), ("PATCH", "/api/billing/auto-top-up")]


def _assert_json_error(response, status):
    assert response.status_code == status, (response.status_code, response.data[:200])
    assert response.mimetype == "application/json"
    assert isinstance(response.json["error"], str) and isinstance(response.json["message"], str)


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_billing_route_needs_a_bearer(client, method, path):
    _assert_json_error(client.open(path, method=method), 401)


@pytest.mark.parametrize("path", ["/", "/api", "/api/billing", "/api/billing/nope",
                                  "/%2e%2e/etc/passwd", "/api/billing/state/../../x"])
def test_unknown_paths_are_json_404(client, path):
    _assert_json_error(client.get(path), 404)


@pytest.mark.parametrize("method, path", [("DELETE", "/api/billing/state"), ("PUT", "/api/billing/charge"),
                                          ("GET", "/api/billing/auto-top-up"), ("OPTIONS", "/api/billing/state")])
def test_wrong_methods_are_json_405(client, method, path):
    response = client.open(path, method=method)
    _assert_json_error(response, 405)
    assert response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/billing/state/", "//api/billing/state", "/api//billing/state"])
def test_no_redirects(portal, path):
    response = portal.client.get(path, headers=portal.bearer())
    assert not 300 <= response.status_code < 400
    assert response.mimetype == "application/json"


def test_a_body_over_64_kib_is_413_payload_too_large(portal):
    response = portal.charge(portal.bearer(), raw=b'{"amountUsd": 25, "pad": "' + b"x" * 70_000 + b'"}')
    _assert_json_error(response, 413)
    assert response.json["error"] == "payload_too_large"


@pytest.mark.parametrize("raw", [
    b"\xff\xfe\x00", b"\xc3\x28", b'{"amountUsd": 1e999999999999}', b'{"amountUsd": 1' + b"0" * 20_000 + b"}",
    b"[" * 50_000 + b"]" * 50_000, b'{"amountUsd": 25}' * 3, b"\x00", b'{"amountUsd": 2.5e1}',
])
def test_odd_bodies_are_4xx_json(portal, raw):
    response = portal.charge(portal.bearer(), raw=raw)
    assert response.status_code < 500 and response.mimetype == "application/json"
    if response.status_code >= 400:
        assert response.json["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_non_json_content_types_are_415(portal, content_type):
    response = portal.client.post("/api/billing/charge", data=b'{"amountUsd": 25}', content_type=content_type,
                                  headers={**portal.bearer(), "Idempotency-Key": "k"})
    _assert_json_error(response, 415)


@pytest.mark.parametrize("authorization", ["Bearer " + "a" * 10_000, "Bearer \u00e9\u00e9", "Bearer a.b.c.d"])
def test_odd_tokens_are_401(client, authorization):
    _assert_json_error(client.get("/api/billing/state", headers={"Authorization": authorization}), 401)


@pytest.mark.parametrize("path, body", [
    ("/_mock/reset", {"scenario": "nope"}), ("/_mock/reset", {"orgs": "x"}), ("/_mock/reset", {"orgs": [{}]}),
    ("/_mock/reset", {"orgs": [{"id": "a", "users": [{"email": "x", "role": "KING"}]}]}),
    ("/_mock/reset", {"orgs": [{"id": "a"}, {"id": "a"}]}),
    ("/_mock/tokens", {"user": "nobody@acme.test"}), ("/_mock/tokens", {"user": 5}),
    ("/_mock/tokens", {"user": "owner@acme.test", "expiresIn": 1e400}),
    ("/_mock/clock", {"advanceSeconds": -5}), ("/_mock/clock", {"advanceSeconds": "5"}),
    ("/_mock/clock", {"advanceSeconds": 1e400}),
    ("/_mock/orgs/org_acme/usage", {"amountUsd": "abc"}), ("/_mock/orgs/org_acme/usage", {"amountUsd": "1e999999"}),
    ("/_mock/orgs/org_nope/usage", {"amountUsd": "1"}),
    ("/_mock/orgs/org_acme/outcomes", {"outcome": "explode"}),
    ("/_mock/orgs/org_acme/outcomes", {"outcome": "fail", "reason": "bad_luck"}),
    ("/_mock/orgs/org_acme/outcomes", {"outcome": "settle", "count": 10**30}),
    ("/_mock/faults", {"path": "/x", "status": 200}), ("/_mock/faults", {"path": "/x", "count": 1e300}),
    ("/_mock/revocations", {"kind": "everything", "user": "owner@acme.test"}),
    ("/_mock/revocations", {"kind": "session"}),
])
def test_bad_control_plane_input_is_4xx_json(client, path, body):
    response = client.post(path, json=body)
    assert 400 <= response.status_code < 500, (path, body, response.json)
    assert response.json["error"]


def test_bad_control_plane_edits_leave_state_unchanged(portal):
    before = portal.org()
    for changes in ({"card": {"brand": "visa"}}, {"balanceUsd": "NaN"}, {"unknown": 1}, {},
                    {"monthlyCapUsd": True}, {"settleAfterSeconds": -1}):
        response = portal.client.patch("/_mock/orgs/org_acme", json=changes)
        assert response.status_code == 400, changes
    assert portal.org() == before
