"""The portal links the client prints lead to a page saying what the real portal shows there;
`/_mock/health` answers readiness probes."""

from __future__ import annotations

import pytest

from mockportal import create_app
from mockportal.testing import TEST_EPOCH
from mockportal.version import version


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("link, title, org", [
    ("/billing", "Billing", None),
    ("/billing?topup=open", "Buy credits", None),
    ("/orgs/acme/billing?topup=open", "Buy credits for Acme Inc", "org_acme"),
    ("/orgs/globex/billing", "Billing for Globex", "org_globex"),
    ("/manage-subscription?org_id=org_pat", "Manage your subscription for Pat Lee", "org_pat"),
])
def test_each_printed_link_is_a_page_naming_the_org_and_linking_the_dashboard(client, link, title, org):
    response = client.get(link)
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    page = text(response)
    assert f"<h1>{title}</h1>" in page
    assert f'href="/_mock/{"#org-" + org if org else ""}"' in page
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_subscription_link_names_the_plan_it_picked(client):
    page = text(client.get("/manage-subscription?org_id=org_pat&plan=nous-chat-plan-40"))
    assert "The link picked <strong>Pro</strong> ($40 a month)." in page


def test_the_pages_say_what_the_real_portal_would_do_there(client):
    assert "buys credits here for <strong>Acme Inc</strong>" in text(client.get("/orgs/acme/billing?topup=open"))
    assert "changes the plan of <strong>Pat Lee</strong>" in text(client.get("/manage-subscription?org_id=org_pat"))


@pytest.mark.parametrize("link", ["/orgs/nope/billing?topup=open", "/manage-subscription?org_id=org_nope"])
def test_an_unknown_org_is_a_404_page(client, link):
    response = client.get(link)
    assert response.status_code == 404 and "This portal has no organisation" in text(response)


def test_the_upgrade_recovery_url_leads_to_the_page(portal, client):
    portal.edit_org("org_pat", card={"brand": "visa", "last4": "0002"})
    answer = client.post("/api/billing/subscription/upgrade", json={"subscriptionTypeId": "nous-chat-plan-40"},
                         headers={**portal.bearer("pat@pat.test"), "Idempotency-Key": "k1"}).json
    assert answer["status"] == "payment_failed"
    page = client.get(answer["recoveryUrl"].removeprefix("http://localhost"))
    assert page.status_code == 200 and "Manage your subscription for Pat Lee" in text(page)


def test_without_a_control_plane_the_pages_do_not_link_the_dashboard():
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, "CONTROL_ENABLED": False}).test_client()
    page = text(client.get("/orgs/acme/billing"))
    assert "Billing for Acme Inc" in page and "/_mock/" not in page


def test_api_paths_stay_json(client):
    response = client.get("/api/billing")
    assert response.status_code == 404 and response.json["error"] == "not_found"


# -- /_mock/health ------------------------------------------------------------------------------
def test_health_answers_ok_with_the_version_and_portal_time(client):
    response = client.get("/_mock/health")
    assert response.status_code == 200
    assert response.json == {"ok": True, "version": version(), "now": "2026-06-10T12:00:00Z", "control": True}


@pytest.mark.parametrize("config", [{"CONTROL_TOKEN": "t"}, {"CONTROL_ENABLED": False}])
def test_health_needs_no_token_and_answers_without_a_control_plane(config):
    client = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, **config}).test_client()
    assert client.get("/_mock/health").json["ok"] is True
    assert client.get("/_mock/clock").status_code in (401, 404)


def test_health_is_not_journaled_or_faulted(portal, client):
    portal.fault("*", "*", 503, "temporarily_unavailable")
    assert client.get("/_mock/health").status_code == 200
    assert portal.journal() == []
    assert client.get("/openapi.json").status_code == 503  # the fault was still armed
