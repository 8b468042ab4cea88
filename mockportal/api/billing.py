"""`/api/billing/*`: the terminal-billing API (CONTRACT.md sections 3-5)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from mockportal.api import authenticated, json_body, portal
from mockportal.api.views import auto_reload_view, billing_state_view, charge_status_view

bp = Blueprint("billing", __name__, url_prefix="/api/billing")


@bp.get("/state")
def state():
    return jsonify(billing_state_view(portal().billing.state(authenticated())))


@bp.post("/charge")
def create_charge():
    principal = authenticated()
    result = portal().billing.submit_charge(principal, request.headers.get("Idempotency-Key"), json_body())
    response = jsonify(result.response.body)
    response.status_code = result.response.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/charge/<path:charge_id>")
def charge_status(charge_id: str):
    return jsonify(charge_status_view(portal().billing.charge_status(authenticated(), charge_id)))


@bp.patch("/auto-top-up")
def auto_top_up():
    org = portal().billing.configure_auto_reload(authenticated(), json_body())
    return jsonify({"ok": True, "autoReload": auto_reload_view(org)})
