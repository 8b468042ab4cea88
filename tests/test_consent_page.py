"""The approval page at /device (CONTRACT.md section 6), driven through the Flask test client.

A person signs in (mock: any known email), sees the client and scopes, ticks "Allow terminal
billing" if their role may, and approves or denies. Forms are CSRF-protected, output is
escaped, and redirects never leave /device.
"""

from __future__ import annotations

import re

import pytest

from mockportal import create_app
from mockportal.testing import TEST_EPOCH
from tests.conftest import BILLING

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CHECKBOX = 'name="allow_terminal_billing"'


class Person:
    """One browser session on the approval page: verbs over the test client's cookie jar."""

    def __init__(self, client):
        self.client = client

    def open(self, user_code: str | None = None):
        return self.client.get("/device", query_string={} if user_code is None else {"user_code": user_code})

    def csrf(self, user_code: str) -> str:
        return CSRF_FIELD.search(self.open(user_code).get_data(as_text=True)).group(1)

    def sign_in(self, user_code: str, email: str = "owner@acme.test"):
        return self.client.post("/device/sign-in", data={
            "csrf_token": self.csrf(user_code), "user_code": user_code, "email": email})

    def decide(self, user_code: str, decision: str = "approve", allow: bool = False):
        form = {"csrf_token": self.csrf(user_code), "user_code": user_code, "decision": decision}
        if allow:
            form["allow_terminal_billing"] = "on"
        return self.client.post("/device/decision", data=form)


@pytest.fixture
def person(client) -> Person:
    return Person(client)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- finding the login --------------------------------------------------------------------------
def test_without_a_code_the_page_asks_for_one(person):
    response = person.open()
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    assert 'name="user_code"' in text(response) and 'method="get"' in text(response)


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}", "{spaced}"])
def test_a_typed_code_is_found_whatever_its_case_dash_or_spaces(portal, person, typed):
    user_code = portal.start_login()["user_code"]
    entered = typed.format(code=user_code, lower=user_code.lower(), bare=user_code.replace("-", ""),
                           spaced=" " + user_code.replace("-", " ").lower() + " ")
    response = person.open(entered)
    assert response.status_code == 200
    assert "Sign in to approve" in text(response) and user_code in text(response)


def test_an_unknown_code_offers_the_form_again(person):
    response = person.open("BCDF-GHJK")
    assert response.status_code == 404
    assert "No login is waiting for that code" in text(response)
    assert 'value="BCDF-GHJK"' in text(response)


def test_an_expired_code_has_its_own_page(portal, person):
    user_code = portal.start_login()["user_code"]
    portal.advance(600)
    response = person.open(user_code)
    assert response.status_code == 409 and "This code has expired" in text(response)
    assert CHECKBOX not in text(response) and "Approve" not in text(response)


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_a_used_code_has_its_own_page(portal, person, decision):
    user_code = portal.start_login()["user_code"]
    portal.approve(user_code) if decision == "approve" else portal.deny(user_code)
    response = person.open(user_code)
    assert response.status_code == 409 and "This code was already used" in text(response)


# -- signing in and deciding --------------------------------------------------------------------
def test_sign_in_then_consent_shows_the_client_and_scopes_in_plain_words(portal, person):
    user_code = portal.start_login(BILLING)["user_code"]
    signed_in = person.sign_in(user_code, "owner@acme.test")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == f"/device?user_code={user_code}"
    page = text(person.open(user_code))
    assert "Hermes CLI wants to use your account" in page
    assert "Olivia Owner" in page and "Acme Inc" in page
    for words in ("Use Nous models", "Run tools", "Buy credits and change auto-reload"):
        assert words in page
    assert "billing:manage" not in page
    assert "Approve" in page and "Deny" in page


def test_an_unknown_email_cannot_sign_in(portal, person):
    user_code = portal.start_login()["user_code"]
    response = person.sign_in(user_code, "stranger@acme.test")
    assert response.status_code == 400 and "No user has that email address" in text(response)
    assert "Sign in to approve" in text(person.open(user_code))


@pytest.mark.parametrize("email, shows_checkbox", [
    ("owner@acme.test", True), ("admin@acme.test", True), ("finance@acme.test", True),
    ("security@acme.test", False), ("member@acme.test", False),
])
def test_the_billing_checkbox_is_only_for_billing_roles(portal, person, email, shows_checkbox):
    user_code = portal.start_login(BILLING)["user_code"]
    person.sign_in(user_code, email)
    page = text(person.open(user_code))
    assert (CHECKBOX in page) is shows_checkbox
    assert ("Allow terminal billing" in page) is shows_checkbox
    # Nor is billing promised to someone who cannot have it.
    assert ("Buy credits" in page) is shows_checkbox


def test_no_checkbox_when_the_terminal_did_not_ask_for_billing(portal, person):
    user_code = portal.start_login("inference:invoke tool:invoke")["user_code"]
    person.sign_in(user_code)
    assert CHECKBOX not in text(person.open(user_code))


@pytest.mark.parametrize("allow, scope", [(True, BILLING), (False, "inference:invoke tool:invoke")])
def test_approving_on_the_page_mints_the_ticked_scopes(portal, person, allow, scope):
    code = portal.start_login(BILLING)
    person.sign_in(code["user_code"])
    response = person.decide(code["user_code"], "approve", allow=allow)
    assert response.status_code == 200 and "Approved" in text(response)
    assert portal.poll(code["device_code"]).json["scope"] == scope


def test_a_member_who_forges_the_tick_still_gets_no_billing(portal, person):
    code = portal.start_login(BILLING)
    person.sign_in(code["user_code"], "member@acme.test")
    assert person.decide(code["user_code"], "approve", allow=True).status_code == 200
    assert portal.poll(code["device_code"]).json["scope"] == "inference:invoke tool:invoke"


def test_denying_on_the_page_denies_the_terminal(portal, person):
    code = portal.start_login()
    person.sign_in(code["user_code"])
    response = person.decide(code["user_code"], "deny")
    assert response.status_code == 200 and "Denied" in text(response)
    assert portal.poll(code["device_code"]).json["error"] == "access_denied"


def test_deciding_without_signing_in_goes_back_to_sign_in(portal, person):
    code = portal.start_login()
    response = person.decide(code["user_code"], "approve")
    assert response.status_code == 303 and response.headers["Location"] == f"/device?user_code={code['user_code']}"
    assert portal.poll(code["device_code"]).json["error"] == "authorization_pending"


def test_a_decision_must_be_approve_or_deny(portal, person):
    code = portal.start_login()
    person.sign_in(code["user_code"])
    assert person.decide(code["user_code"], "maybe").status_code == 400
    assert portal.poll(code["device_code"]).json["error"] == "authorization_pending"


def test_the_token_belongs_to_whoever_signed_in_last(portal, person):
    code = portal.start_login()
    person.sign_in(code["user_code"], "owner@acme.test")
    signed_out = person.client.post("/device/sign-out", data={
        "csrf_token": person.csrf(code["user_code"]), "user_code": code["user_code"]})
    assert signed_out.status_code == 303 and signed_out.headers["Location"] == f"/device?user_code={code['user_code']}"
    assert "Sign in to approve" in text(person.open(code["user_code"]))
    person.sign_in(code["user_code"], "owner@globex.test")
    person.decide(code["user_code"], "approve", allow=True)
    token = portal.poll(code["device_code"]).json
    assert portal.state({"Authorization": "Bearer " + token["access_token"]})["org"]["id"] == "org_globex"


# -- CSRF -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/device/sign-in", "/device/decision", "/device/sign-out"])
@pytest.mark.parametrize("token", [None, "", "forged-token", "\u00e9t\u00e9"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token(portal, person, path, token):
    code = portal.start_login()
    person.sign_in(code["user_code"])
    form = {"user_code": code["user_code"], "email": "owner@acme.test", "decision": "approve"}
    if token is not None:
        form["csrf_token"] = token
    response = person.client.post(path, data=form)
    assert response.status_code == 403 and "This form has expired" in text(response)
    assert portal.poll(code["device_code"]).json["error"] == "authorization_pending"


def test_a_token_from_another_session_is_refused(app, portal, person):
    code = portal.start_login()
    person.sign_in(code["user_code"], "member@acme.test")
    attacker = Person(app.test_client())
    attacker_token = attacker.csrf(code["user_code"])
    response = person.client.post("/device/decision", data={
        "csrf_token": attacker_token, "user_code": code["user_code"], "decision": "approve"})
    assert response.status_code == 403
    assert portal.poll(code["device_code"]).json["error"] == "authorization_pending"


def test_signing_in_starts_a_new_csrf_token(portal, person):
    user_code = portal.start_login()["user_code"]
    before = person.csrf(user_code)
    person.sign_in(user_code)
    assert person.csrf(user_code) != before


# -- escaping, redirects, headers ---------------------------------------------------------------
def test_what_was_typed_is_escaped(person):
    response = person.open('"><script>alert(1)</script>')
    page = text(response)
    assert "<script>" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_names_from_the_database_are_escaped(portal, person):
    fixture = {"orgs": [{"id": "org_x", "name": "<b>Evil</b> & Co", "card": None,
                         "users": [{"email": "boss@x.test", "role": "OWNER",
                                    "name": "<img src=x onerror=alert(1)>"}]}]}
    portal.reset(fixture)
    user_code = portal.start_login()["user_code"]
    sign_in_page = text(person.open(user_code))
    person.sign_in(user_code, "boss@x.test")
    consent_page = text(person.open(user_code))
    decided_page = text(person.decide(user_code, "approve"))
    for page in (sign_in_page, consent_page, decided_page):
        assert "<img" not in page and "<b>" not in page
        assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page
    for page in (sign_in_page, consent_page):
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("user_code", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                       "BCDF-GHJK\r\nLocation: https://evil.example"])
def test_sign_out_never_redirects_off_the_page(portal, person, user_code):
    token = person.csrf(portal.start_login()["user_code"])
    response = person.client.post("/device/sign-out", data={"csrf_token": token, "user_code": user_code})
    assert response.status_code == 303 and response.headers["Location"] == "/device"


def test_sign_in_ignores_any_next_url(portal, person):
    user_code = portal.start_login()["user_code"]
    response = person.client.post("/device/sign-in?next=https://evil.example", data={
        "csrf_token": person.csrf(user_code), "user_code": user_code, "email": "owner@acme.test",
        "next": "https://evil.example", "redirect_uri": "https://evil.example"})
    assert response.headers["Location"] == f"/device?user_code={user_code}"


def test_pages_cannot_be_framed_or_run_scripts(person):
    headers = person.open().headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(portal, person):
    user_code = portal.start_login()["user_code"]
    cookie = person.sign_in(user_code).headers["Set-Cookie"]
    assert cookie.startswith("mockportal_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_workers_on_one_database_share_the_sign_in(tmp_path):
    """The session secret lives in the database, so any worker accepts any worker's cookie."""
    database = str(tmp_path / "portal.db")
    first = create_app({"DATABASE": database, "FROZEN_CLOCK_AT": TEST_EPOCH})
    second = create_app({"DATABASE": database, "FROZEN_CLOCK_AT": TEST_EPOCH})
    user_code = first.test_client().post("/api/oauth/device/code", data={"client_id": "hermes-cli"}).json["user_code"]
    browser = Person(first.test_client())
    browser.sign_in(user_code, "finance@acme.test")
    cookie = browser.client.get_cookie("mockportal_session")
    other_worker = second.test_client()
    other_worker.set_cookie("mockportal_session", cookie.value)
    page = text(Person(other_worker).open(user_code))
    assert "Fiona Finance" in page and "wants to use your account" in page
