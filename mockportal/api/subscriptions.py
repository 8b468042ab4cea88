"""`/api/billing/subscription*`: the plan, its preview, the pending change and the upgrade
(CONTRACT.md section 7)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from mockportal.api import authenticated, json_body, portal, spend_response
from mockportal.api.guard import served_origin
from mockportal.api.views import pending_change_view, preview_view, subscription_view, upgrade_view

bp = Blueprint("subscriptions", __name__, url_prefix="/api/billing/subscription")


@bp.get("")
def read():
    return jsonify(subscription_view(portal().subscriptions.read(authenticated())))


@bp.post("/preview")
def preview():
    return jsonify(preview_view(portal().subscriptions.preview(authenticated(), json_body())))


@bp.put("/pending-change")
def schedule():
    return jsonify(pending_change_view(portal().subscriptions.schedule(authenticated(), json_body())))


@bp.delete("/pending-change")
def unschedule():
    return jsonify(pending_change_view(portal().subscriptions.unschedule(authenticated())))


@bp.post("/upgrade")
def upgrade():
    result = portal().subscriptions.upgrade(authenticated(), request.headers.get("Idempotency-Key"), json_body())
    return spend_response(result, lambda body: upgrade_view(body, served_origin()))
