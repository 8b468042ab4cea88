"""The control plane's dashboard at /_mock/, through the Flask test client: what it shows, each
action its forms post, and its guards (CSRF, the control token, loopback host names)."""

from __future__ import annotations

import re

import pytest

from mockportal import create_app
from mockportal.testing import BILLING_SCOPE, TEST_EPOCH

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = "s3cret control"


class Dashboard:
    """One browser session on the dashboard: verbs over the test client's cookie jar."""

    def __init__(self, client, **headers: str):
        self.client = client
        self.headers = headers

    def open(self, query: str = ""):
        return self.client.get("/_mock/" + query, headers=self.headers)

    def csrf(self) -> str:
        return CSRF_FIELD.search(self.open().get_data(as_text=True)).group(1)

    def post(self, action: str, csrf: bool = True, **form: str):
        if csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post("/_mock/dashboard/" + action, data=form, headers=self.headers)

    def data(self) -> dict:
        response = self.client.get("/_mock/dashboard/data.json", headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json


@pytest.fixture
def dashboard(client) -> Dashboard:
    return Dashboard(client)


def text(response) -> str:
    return response.get_data(as_text=True)


def done(response) -> str:
    """An action's answer: a 303 back to the dashboard, and only there; its notice."""
    assert response.status_code == 303, text(response)
    assert response.headers["Location"] == "/_mock/"
    return text(response)


def notice(dashboard: Dashboard) -> str:
    return re.search(r'<p class="notice" role="status">(.*?)</p>', text(dashboard.open())).group(1)


# -- what it shows ------------------------------------------------------------------------------
def test_the_page_renders_the_control_planes_own_reports(portal, dashboard):
    response = dashboard.open()
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    page = text(response)
    for org in ("Acme Inc", "Globex", "Pat Lee"):
        assert org in page
    data = dashboard.data()
    assert data["orgs"] == [portal.org(org_id) for org_id in ("org_acme", "org_globex", "org_pat")]
    assert data["clock"] == portal.clock()
    assert data["stripe"] == portal.stripe()


def test_the_page_is_a_script_free_unframeable_page(dashboard):
    headers = dashboard.open().headers
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_it_shows_buckets_plan_charges_and_metered_completions(portal, client, dashboard):
    headers = portal.bearer()
    charge_id = portal.charge(headers, amount="25").json["chargeId"]
    pat = portal.bearer("pat@pat.test")
    client.put("/api/billing/subscription/pending-change", headers=pat,
               json={"type": "tier_change", "subscriptionTypeId": "nous-chat-plan-10"})
    chat = client.post("/v1/chat/completions", headers=pat,
                       json={"model": "anthropic/claude-sonnet-5", "messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200
    page = text(dashboard.open())
    acme = page[page.index('id="org-org_acme"'):page.index('id="org-org_globex"')]
    assert charge_id in acme and "pending" in acme and "$25" in acme
    pat_part = page[page.index('id="org-org_pat"'):page.index('id="faults"')]
    completion = portal.org("org_pat")["completions"][0]
    assert completion["model"] in pat_part and f"${completion['costUsd']}" in pat_part
    assert f"G <b>${portal.org('org_pat')['subscription']['creditsRemaining']}</b>" in pat_part
    assert "then moves to <strong>Basic</strong>" in pat_part


def test_it_lists_the_logins_waiting_and_no_others(portal, dashboard):
    waiting = portal.start_login()["user_code"]
    decided = portal.start_login()["user_code"]
    portal.deny(decided)
    logins = dashboard.data()["deviceLogins"]
    assert [login["userCode"] for login in logins] == [waiting]
    assert logins[0]["scopes"] == BILLING_SCOPE.split() and logins[0]["wantsBilling"] is True
    portal.advance(600)
    assert dashboard.data()["deviceLogins"] == []


def test_it_lists_the_armed_faults_scripted_outcomes_and_replies(portal, dashboard):
    portal.fault("POST", "/api/billing/charge", 503, "temporarily_unavailable", retry_after=7, count=2)
    portal.script_outcome("org_acme", "fail", reason="card_declined")
    portal.replies("org_acme", {"content": "Scripted answer"})
    page = text(dashboard.open())
    assert dashboard.data()["faults"] == [{"method": "POST", "path": "/api/billing/charge", "remaining": 2,
                                           "status": 503, "error": "temporarily_unavailable",
                                           "message": "Injected fault.", "retryAfter": 7, "delayMs": 0}]
    assert "503 temporarily_unavailable (Retry-After 7)" in page
    assert "fail (card_declined)" in page and "Scripted answer" in page


def test_the_journal_is_newest_first_and_filters_by_path_and_status(portal, client, dashboard):
    headers = portal.bearer()
    client.get("/api/billing/state", headers=headers)
    client.get("/api/billing/state")  # 401
    portal.charge(headers)
    entries = dashboard.data()["journal"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api/billing/charge", 202), ("GET", "/api/billing/state", 401), ("GET", "/api/billing/state", 200)]
    filtered = client.get("/_mock/dashboard/data.json?path=state&status=4xx").json["journal"]
    assert [(e["path"], e["status"]) for e in filtered] == [("/api/billing/state", 401)]
    assert client.get("/_mock/dashboard/data.json?status=202").json["journal"][0]["path"] == "/api/billing/charge"
    page = text(dashboard.open("?path=charge"))
    assert "/api/billing/charge" in page and "/api/billing/state</td>" not in page


def test_a_completions_journal_entry_shows_its_model_usage_and_cost(portal, client, dashboard):
    pat = portal.bearer("pat@pat.test")
    client.post("/v1/chat/completions", headers=pat,
                json={"model": "openai/gpt-5.4-mini", "messages": [{"role": "user", "content": "hi"}]})
    entry = portal.journal(path_prefix="/v1/")[0]
    row = re.search(r"<tr>.*?/v1/chat/completions.*?</tr>", text(dashboard.open()), re.S).group(0)
    usage = entry["usage"]
    assert f"openai/gpt-5.4-mini</span> · {usage['prompt_tokens']} + {usage['completion_tokens']} tokens" in row
    assert f"${entry['costUsd']}" in row


def test_a_bad_status_filter_is_a_400_page(dashboard):
    response = dashboard.open("?status=teapot")
    assert response.status_code == 400 and "A status filter is a status (404) or a class (4xx)." in text(response)


def test_the_dashboard_and_its_requests_stay_out_of_the_journal(portal, dashboard):
    dashboard.open()
    dashboard.post("clock", seconds="60")
    assert portal.journal() == []


# -- actions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds, label", [(60, "+1 min"), (3600, "+1 h"), (86400, "+1 day"),
                                            (2592000, "+30 days")])
def test_advance_moves_the_portal_clock(portal, dashboard, seconds, label):
    done(dashboard.post("clock", seconds=str(seconds)))
    assert portal.now() == TEST_EPOCH + seconds
    assert notice(dashboard).startswith(f"Clock moved {label}")


def test_advancing_settles_a_purchase_on_the_page(portal, dashboard):
    portal.charge(portal.bearer(), amount="25")
    done(dashboard.post("clock", seconds="60"))
    assert portal.org()["balanceUsd"] == "167.5" and portal.org()["charges"][0]["status"] == "settled"


@pytest.mark.parametrize("seconds", ["61", "-60", "", "1e3", "3600.5"])
def test_the_clock_moves_only_by_the_offered_steps(portal, dashboard, seconds):
    response = dashboard.post("clock", seconds=seconds)
    assert response.status_code == 400 and "Move the clock by one of" in text(response)
    assert portal.now() == TEST_EPOCH


def test_approve_with_billing_as_a_billing_role(portal, dashboard):
    login = portal.start_login()
    done(dashboard.post("device/approve", user_code=login["user_code"], user="finance@acme.test",
                        allow_terminal_billing="on"))
    token = portal.poll(login["device_code"])
    assert token.status_code == 200 and token.json["scope"] == BILLING_SCOPE
    assert notice(dashboard) == (f"Approved {login['user_code']} as finance@acme.test: its token&#39;s scope is "
                                 f"&#39;{BILLING_SCOPE}&#39;.")


@pytest.mark.parametrize("user, allow", [("member@acme.test", "on"), ("owner@acme.test", None)])
def test_approve_downscopes_as_the_approval_page_does(portal, dashboard, user, allow):
    login = portal.start_login()
    form = {"user_code": login["user_code"], "user": user}
    if allow:
        form["allow_terminal_billing"] = allow
    done(dashboard.post("device/approve", **form))
    assert portal.poll(login["device_code"]).json["scope"] == "inference:invoke tool:invoke"


def test_deny_refuses_the_login(portal, dashboard):
    login = portal.start_login()
    done(dashboard.post("device/deny", user_code=login["user_code"]))
    assert portal.poll(login["device_code"]).json["error"] == "access_denied"


def test_a_decided_or_unknown_code_is_an_error_page(portal, dashboard):
    login = portal.start_login()
    portal.deny(login["user_code"])
    response = dashboard.post("device/approve", user_code=login["user_code"], user="owner@acme.test")
    assert response.status_code == 409 and "already used" in text(response)
    response = dashboard.post("device/approve", user_code="BCDF-GHJK", user="owner@acme.test")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert portal.poll(login["device_code"]).json["error"] == "access_denied"


def test_stripe_switches_off_and_on(portal, dashboard):
    done(dashboard.post("stripe", available="false"))
    assert portal.stripe()["available"] is False
    assert "Switch on" in text(dashboard.open())
    done(dashboard.post("stripe", available="true"))
    assert portal.stripe()["available"] is True


def test_the_kill_switch_turns_terminal_billing_off_and_on(portal, dashboard):
    headers = portal.bearer()
    done(dashboard.post("orgs/org_acme/kill-switch", enabled="false"))
    assert portal.org()["cliBillingEnabled"] is False
    assert portal.charge(headers).json["error"] == "cli_billing_disabled"
    done(dashboard.post("orgs/org_acme/kill-switch", enabled="true"))
    assert portal.charge(headers, key="key-2").status_code == 202


@pytest.mark.parametrize("action, form", [("orgs/org_nope/kill-switch", {"enabled": "false"}),
                                          ("orgs/org_acme/kill-switch", {"enabled": "no"}),
                                          ("stripe", {"available": "maybe"}),
                                          ("reset", {"scenario": "nope"})])
def test_bad_actions_change_nothing(portal, dashboard, action, form):
    before = dashboard.data()
    response = dashboard.post(action, **form)
    assert 400 <= response.status_code < 500 and "Nothing was changed." in text(response)
    assert dashboard.data() == before


def test_reset_puts_the_scenario_back(portal, dashboard):
    portal.edit_org("org_acme", balanceUsd="1")
    portal.advance(3600)
    done(dashboard.post("reset", scenario="empty"))
    assert dashboard.data()["orgs"] == []
    done(dashboard.post("reset", scenario="demo"))
    assert portal.org()["balanceUsd"] == "142.5" and portal.now() == TEST_EPOCH


def test_actions_are_post_only(client):
    for action in ("clock", "device/approve", "device/deny", "stripe", "orgs/org_acme/kill-switch", "reset"):
        assert client.get("/_mock/dashboard/" + action).status_code == 405


def test_an_action_redirects_only_to_the_dashboard(portal, dashboard):
    response = dashboard.client.post("/_mock/dashboard/clock?next=https://evil.example/",
                                     data={"csrf_token": dashboard.csrf(), "seconds": "60",
                                           "next": "https://evil.example/"},
                                     headers={"Referer": "https://evil.example/"})
    done(response)


# -- CSRF ---------------------------------------------------------------------------------------
ACTIONS = [("clock", {"seconds": "60"}), ("stripe", {"available": "false"}),
           ("orgs/org_acme/kill-switch", {"enabled": "false"}), ("reset", {"scenario": "empty"}),
           ("device/deny", {"user_code": "{code}"}),
           ("device/approve", {"user_code": "{code}", "user": "owner@acme.test"})]


@pytest.mark.parametrize("action, form", ACTIONS)
@pytest.mark.parametrize("token", [None, "", "forged"])
def test_every_action_refuses_a_missing_or_wrong_csrf_token(portal, dashboard, action, form, token):
    code = portal.start_login()["user_code"]
    dashboard.open()  # the session exists, with its own token
    before = dashboard.data()
    form = {name: value.format(code=code) for name, value in form.items()}
    if token is not None:
        form["csrf_token"] = token
    response = dashboard.post(action, csrf=False, **form)
    assert response.status_code == 403 and "This form did not come from this page" in text(response)
    assert dashboard.data() == before


def test_another_sessions_csrf_token_is_refused(portal, app, dashboard):
    theirs = Dashboard(app.test_client()).csrf()
    dashboard.open()
    response = dashboard.post("clock", csrf=False, seconds="60", csrf_token=theirs)
    assert response.status_code == 403 and portal.now() == TEST_EPOCH


def test_the_approval_pages_csrf_token_does_not_work_here(portal, client, dashboard):
    code = portal.start_login()["user_code"]
    theirs = CSRF_FIELD.search(text(client.get("/device", query_string={"user_code": code}))).group(1)
    response = dashboard.post("clock", csrf=False, seconds="60", csrf_token=theirs)
    assert response.status_code == 403 and portal.now() == TEST_EPOCH


# -- the control token and the host ---------------------------------------------------------------
@pytest.fixture
def guarded():
    return create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_TOKEN": TOKEN})


def test_with_a_control_token_the_page_asks_for_it_and_shows_nothing_else(guarded):
    response = Dashboard(guarded.test_client()).open()
    assert response.status_code == 401 and 'name="token"' in text(response)
    assert "Acme" not in text(response) and "142.5" not in text(response)
    data = guarded.test_client().get("/_mock/dashboard/data.json")
    assert data.status_code == 401 and data.json["error"] == "control_token_required"


def test_the_login_form_keeps_the_token_in_the_session(guarded):
    browser = Dashboard(guarded.test_client())
    response = browser.post("login", token="wrong")
    assert response.status_code == 401 and "not the server&#39;s control token" in text(response)
    done(browser.post("login", token=TOKEN))
    assert "Acme Inc" in text(browser.open())
    cookie = browser.client.get_cookie("mockportal_session").value
    session = guarded.session_interface.get_signing_serializer(guarded).loads(cookie)
    assert "dashboard_auth" in session and TOKEN not in repr(session)
    done(browser.post("logout"))
    assert browser.open().status_code == 401


def test_a_token_in_the_address_signs_in_once_and_leaves_the_address(guarded):
    browser = Dashboard(guarded.test_client())
    response = browser.open("?token=" + TOKEN.replace(" ", "%20"))
    done(response)
    assert browser.open().status_code == 200
    assert Dashboard(guarded.test_client()).open("?token=nope").status_code == 401


def test_a_bearer_header_opens_it_too(guarded):
    browser = Dashboard(guarded.test_client(), Authorization=f"Bearer {TOKEN}")
    assert browser.open().status_code == 200 and browser.data()["clock"]["frozen"] is True
    done(browser.post("clock", seconds="60"))


def test_without_the_token_no_action_runs(guarded):
    browser = Dashboard(guarded.test_client())
    insider = Dashboard(guarded.test_client(), Authorization=f"Bearer {TOKEN}")
    code = browser.client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"}).json["user_code"]
    before = insider.data()
    for action, form in ACTIONS:
        form = {name: value.format(code=code) for name, value in form.items()}
        assert browser.post(action, **form).status_code == 401, action  # with the login page's CSRF token
    assert insider.data() == before


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io", "[bad"])
def test_a_host_name_the_portal_does_not_serve_never_reaches_the_dashboard(portal, client, host):
    response = client.get("/_mock/", headers={"Host": host})
    assert response.status_code == 421 and response.json["error"] == "host_not_allowed"  # api/guard.py
    assert client.post("/_mock/dashboard/clock", data={"seconds": "60"}, headers={"Host": host}).status_code == 421
    assert portal.now() == TEST_EPOCH


def test_without_a_control_token_only_loopback_host_names_are_answered():
    """Not even the address the server is bound to, which other machines can reach."""
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "BIND_HOST": "192.168.7.7"}).test_client()
    response = client.get("/_mock/", base_url="http://192.168.7.7:8765")
    assert response.status_code == 403 and "answers only on localhost" in text(response)
    assert client.post("/_mock/dashboard/clock", data={"seconds": "60"},
                       base_url="http://192.168.7.7:8765").status_code == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:80", "[::1]"])
def test_loopback_host_names_are_answered(client, host):
    assert client.get("/_mock/", headers={"Host": host}).status_code == 200


def test_no_control_means_no_dashboard():
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_ENABLED": False}).test_client()
    response = client.get("/_mock/")
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert client.post("/_mock/dashboard/reset", data={"scenario": "empty"}).status_code == 404
