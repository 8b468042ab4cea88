"""The portal's web pages the client links to, stood in for by one small page each.

The client prints `/billing`, `/billing?topup=open` and `/manage-subscription?org_id=...`,
and Hermes builds `/orgs/{slug}/billing?topup=open` from the account's slug. On the real
portal a signed-in person buys credits or manages the subscription there. mockportal has no
payment pages: each link answers with a page that says what the real one would show, names
the org when the link names one, and points to the dashboard, where the same state is shown
and changed. Every `/api/...` path stays JSON.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from mockportal.api import portal
from mockportal.api.web import page_headers
from mockportal.domain.orgs import Org

bp = Blueprint("pages", __name__)
bp.after_request(page_headers)


def _page(purpose: str, org: Org | None, asked_for: str | None = None, **context):
    """A stand-in page; 404 when the link names an org this portal does not have."""
    status = 404 if asked_for and org is None else 200
    return render_template("portal_page.html", purpose=purpose, org=org, asked_for=asked_for,
                           dashboard="dashboard" in current_app.blueprints, **context), status


@bp.get("/billing")
def billing():
    return _page("topup" if request.args.get("topup") == "open" else "billing", None)


@bp.get("/orgs/<slug>/billing")
def org_billing(slug: str):
    purpose = "topup" if request.args.get("topup") == "open" else "billing"
    return _page(purpose, portal().admin.find_org(slug=slug), slug)


@bp.get("/manage-subscription")
def manage_subscription():
    org_id, tier_id = request.args.get("org_id"), request.args.get("plan")
    org = portal().admin.find_org(org_id=org_id) if org_id else None
    return _page("subscription", org, org_id, tier=portal().catalogue.find(tier_id) if tier_id else None)
