"""A web page in the developer's browser cannot drive the portal: it cannot forge a control-plane
write (CSRF: writes must be JSON) nor reach the portal under its own name (DNS rebinding: the
`Host` must be one the portal serves). Every absolute URL the portal builds is on a served name."""

from __future__ import annotations

import pytest
import requests
from flask import Blueprint, request

from mockportal import create_app
from mockportal.api import guard
from mockportal.errors import Forbidden
from mockportal.testing import BILLING_SCOPE, DEMO_PLAN_OWNER, TEST_EPOCH, Control, PortalServer

EVIL_ORIGIN = {"Origin": "http://evil.example"}
# What a web page can send another origin without a CORS preflight, or a form can post.
SIMPLE_CONTENT_TYPES = [None, "text/plain", "application/x-www-form-urlencoded",
                        "multipart/form-data; boundary=x", "application/json-patch+json"]
CONTROL_WRITES = [("POST", "/_mock/reset", '{"scenario": "empty"}'),
                  ("POST", "/_mock/orgs/org_acme/usage", '{"amountUsd": "100"}'),
                  ("PATCH", "/_mock/orgs/org_acme", '{"balanceUsd": "0"}'),
                  ("POST", "/_mock/tokens", '{"user": "owner@acme.test"}'),
                  ("POST", "/_mock/clock", '{"advanceSeconds": 3600}'),
                  ("DELETE", "/_mock/faults", ""),
                  ("DELETE", "/_mock/requests", "")]
FOREIGN_HOSTS = ["evil.example", "evil.example:80", "localhost.evil.example", "127.0.0.1.nip.io",
                 "localhost:8080", "127.0.0.1:81", "[::2]", "[::1]:8080", "", "localhost:80 x",
                 "localhost.", "l\u00f6calhost", "localhost:\u00b2"]
EVERY_SURFACE = ["/_mock/clock", "/api/billing/state", "/api/oauth/account", "/device", "/openapi.json",
                 "/api/nous/recommended-models", "/nope"]


def _json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    assert response.json["error"] == code, response.json


# -- CSRF: control-plane writes are JSON --------------------------------------------------------
def test_a_cross_site_text_plain_post_cannot_reset_the_portal(portal, client):
    portal.edit_org(balanceUsd="7")
    response = client.post("/_mock/reset", data='{"scenario": "empty"}', content_type="text/plain",
                           headers=EVIL_ORIGIN)
    _json_error(response, 415, "unsupported_media_type")
    assert portal.org()["balanceUsd"] == "7"


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES)
@pytest.mark.parametrize("method, path, body", CONTROL_WRITES)
def test_a_control_plane_write_that_is_not_json_is_refused_and_changes_nothing(portal, client, method, path,
                                                                                 body, content_type):
    portal.fault("GET", "/openapi.json", 503, count=1)
    before, clock = portal.org(), portal.clock()
    response = client.open(path, method=method, data=body, headers=EVIL_ORIGIN,
                           **({} if content_type is None else {"content_type": content_type}))
    _json_error(response, 415, "unsupported_media_type")
    assert portal.org() == before and portal.clock() == clock
    assert client.get("/openapi.json").status_code == 503, "the fault was cleared"


def test_control_plane_reads_need_no_content_type(client):
    assert client.get("/_mock/clock").status_code == 200
    assert client.get("/_mock/requests?limit=1").status_code == 200


def test_the_documented_curl_still_works(client):
    response = client.delete("/_mock/faults", headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json == {"ok": True}


def test_a_form_action_opts_out_of_json_writes_by_naming_its_csrf_check():
    """The hook for HTML forms on the control plane: exempt from the JSON rule only together
    with a CSRF check, which runs before the view."""
    bp = Blueprint("forms", __name__, url_prefix="/_mock/forms")
    guard.require_json_writes(bp)

    def csrf_check():
        if request.form.get("csrf_token") != "right":
            raise Forbidden("csrf_failed", "This form did not come from the dashboard.")

    @bp.post("/json-only")
    def json_only():
        return {"ok": True}

    @bp.post("/reset")
    @guard.form_action(csrf_check)
    def form_reset():
        return {"ok": True}

    app = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH})
    app.register_blueprint(bp)
    client = app.test_client()
    _json_error(client.post("/_mock/forms/json-only", data={"csrf_token": "right"}), 415, "unsupported_media_type")
    _json_error(client.post("/_mock/forms/reset", data={"csrf_token": "wrong"}), 403, "csrf_failed")
    assert client.post("/_mock/forms/reset", data={"csrf_token": "right"}).json == {"ok": True}


# -- DNS rebinding: only served names -------------------------------------------------------------
@pytest.mark.parametrize("path", EVERY_SURFACE)
@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_request_for_a_name_the_portal_does_not_serve_is_refused_on_every_path(client, host, path):
    _json_error(client.get(path, headers={"Host": host}), 421, "host_not_allowed")


def test_the_inference_api_refuses_a_foreign_host_in_its_own_error_shape(client):
    response = client.get("/v1/models", headers={"Host": "evil.example"})
    assert response.status_code == 421 and response.json["error"]["code"] == "host_not_allowed"


def test_a_json_write_under_a_foreign_name_changes_nothing(portal, client):
    """What a rebinding page can send: same-origin to it, so any method and content type."""
    before = portal.org()
    response = client.post("/_mock/orgs/org_acme/usage", json={"amountUsd": "100"},
                           headers={"Host": "evil.example"})
    _json_error(response, 421, "host_not_allowed")
    login = client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"}, headers={"Host": "evil.example"})
    _json_error(login, 421, "host_not_allowed")
    assert portal.org() == before
    assert portal.journal()[-1]["status"] == 421  # refused before any rule ran, and recorded


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost:80", "127.0.0.1", "127.0.0.1:80",
                                  "[::1]", "[::1]:80"])
def test_loopback_names_on_the_served_port_are_served(client, host):
    assert client.get("/_mock/clock", headers={"Host": host}).status_code == 200


def test_every_loopback_name_reaches_a_real_server_on_its_port_and_no_other_name_does():
    with PortalServer() as server:
        port = server.url.rsplit(":", 1)[1]
        for host, status in ((f"127.0.0.1:{port}", 200), (f"localhost:{port}", 200), (f"[::1]:{port}", 200),
                             (f"evil.example:{port}", 421), ("127.0.0.1", 421)):
            response = requests.get(server.url + "/_mock/clock", headers={"Host": host}, timeout=10)
            assert response.status_code == status, (host, response.text)
        # The reproduction: a cross-site text/plain POST from a page in the browser.
        response = requests.post(server.url + "/_mock/reset", data='{"scenario": "empty"}', timeout=10,
                                 headers={"Content-Type": "text/plain", **EVIL_ORIGIN})
        assert (response.status_code, response.json()["error"]) == (415, "unsupported_media_type")
        assert server.control().org()["name"] == "Acme Inc"


def test_the_bound_address_is_a_served_name():
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "BIND_HOST": "192.168.7.7"}).test_client()
    assert client.get("/_mock/clock", base_url="http://192.168.7.7:8765").status_code == 200
    _json_error(client.get("/_mock/clock", base_url="http://192.168.7.8:8765"), 421, "host_not_allowed")


def test_a_wildcard_bind_serves_its_own_address_and_loopback_but_no_other_name():
    """`serve --host 0.0.0.0` prints http://0.0.0.0:PORT; any other name is a --public-url."""
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "BIND_HOST": "0.0.0.0"}).test_client()
    assert client.get("/_mock/clock", base_url="http://0.0.0.0:8765").status_code == 200
    assert client.get("/_mock/clock", base_url="http://127.0.0.1:8765").status_code == 200
    _json_error(client.get("/_mock/clock", base_url="http://192.168.7.7:8765"), 421, "host_not_allowed")


@pytest.fixture
def proxied():
    """A portal a TLS proxy serves as https://portal.example, reached by the proxy over http."""
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "PUBLIC_URL": "https://Portal.Example"}).test_client()


@pytest.mark.parametrize("host", ["portal.example", "portal.example:443", "PORTAL.example"])
def test_the_public_url_is_a_served_name(proxied, host):
    assert proxied.get("/_mock/clock", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["portal.example:80", "portal.example:8443", "www.portal.example"])
def test_the_public_url_serves_its_own_port_only(proxied, host):
    _json_error(proxied.get("/_mock/clock", headers={"Host": host}), 421, "host_not_allowed")


@pytest.mark.parametrize("url", ["ftp://portal.example", "portal.example", "https://portal.example/prefix",
                                 "https://user@portal.example", "https://portal.example:99999", "https://",
                                 "https://portal.example?x=1", "https://por tal.example"])
def test_a_public_url_that_is_not_an_origin_is_refused_at_startup(url):
    with pytest.raises(ValueError, match="not an http"):
        create_app({"PUBLIC_URL": url})


# -- absolute URLs are built on the served origin ---------------------------------------------------
def _device_code(client, **kwargs):
    response = client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"}, **kwargs)
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize("host, origin", [("localhost", "http://localhost"), ("127.0.0.1:80", "http://127.0.0.1"),
                                          ("[::1]", "http://[::1]")])
def test_verification_uris_are_on_the_served_name_the_client_used(client, host, origin):
    code = _device_code(client, headers={"Host": host})
    assert code["verification_uri"] == origin + "/device"
    assert code["verification_uri_complete"] == f"{origin}/device?user_code={code['user_code']}"


def test_behind_a_proxy_verification_uris_are_on_the_public_url(proxied):
    code = _device_code(proxied, headers={"Host": "portal.example"})
    assert code["verification_uri"] == "https://portal.example/device"
    assert code["verification_uri_complete"].startswith("https://portal.example/device?user_code=")


def test_an_upgrades_recovery_url_is_on_the_served_name(proxied):
    control = Control.over_flask(proxied)
    control.script_outcome("org_pat", "fail", reason="authentication_required")
    bearer = control.bearer(DEMO_PLAN_OWNER, BILLING_SCOPE)
    response = proxied.post("/api/billing/subscription/upgrade", json={"subscriptionTypeId": "nous-chat-plan-40"},
                            headers={**bearer, "Idempotency-Key": "up-1", "Host": "portal.example"})
    assert response.status_code == 200 and response.json["status"] == "requires_action", response.json
    assert response.json["recoveryUrl"] == "https://portal.example/manage-subscription?org_id=org_pat"
