"""`/api/billing/*`: the terminal-billing API (CONTRACT.md sections 3-5)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.routing import PathConverter

from mockportal.api import authenticated, json_body, portal, spend_response
from mockportal.api.views import auto_reload_view, billing_state_view, charge_status_view

bp = Blueprint("billing", __name__, url_prefix="/api/billing")


class AnyChargeId(PathConverter):
    """Any id, even one that starts with a slash (`/charge/%2Fx`): Werkzeug's `path` refuses
    those with a 404, and the contract says an unknown id reads as pending, never 404."""

    regex = "(?s:.+?)"  # `s`: an id may even hold an encoded line break (`%0A`)
    part_isolating = False  # the id may span path segments


# Registered before the routes below: a blueprint runs its setup callbacks in order.
bp.record_once(lambda setup: setup.app.url_map.converters.setdefault("charge_id", AnyChargeId))


@bp.get("/state")
def state():
    return jsonify(billing_state_view(portal().billing.state(authenticated())))


@bp.post("/charge")
def create_charge():
    result = portal().billing.submit_charge(authenticated(), request.headers.get("Idempotency-Key"), json_body())
    return spend_response(result)


@bp.get("/charge/<charge_id:charge_id>")
def charge_status(charge_id: str):
    return jsonify(charge_status_view(portal().billing.charge_status(authenticated(), charge_id)))


@bp.patch("/auto-top-up")
def auto_top_up():
    org = portal().billing.configure_auto_reload(authenticated(), json_body())
    return jsonify({"ok": True, "autoReload": auto_reload_view(org)})
