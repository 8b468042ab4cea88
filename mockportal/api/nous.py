"""`/api/nous/*`: public portal data the client reads without a login (CONTRACT.md section 9)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from mockportal.api import portal

bp = Blueprint("nous", __name__, url_prefix="/api/nous")


@bp.get("/recommended-models")
def recommended_models():
    return jsonify(portal().metering.recommended())
