"""`GET /_mock/health`: is this portal up? For CI readiness waits.

Answered whatever the flags (`--no-control`, `--control-token`), never journaled, never
faulted: a readiness probe must not need the token or disturb what a test verifies. It reads
the portal clock, so a 200 also says the database answers.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from mockportal.api import portal
from mockportal.api.control import PREFIX
from mockportal.domain.clock import iso
from mockportal.version import version

bp = Blueprint("health", __name__, url_prefix=PREFIX)


@bp.get("/health")
def health():
    return jsonify({"ok": True, "version": version(), "now": iso(portal().clock.now()),
                    "control": current_app.config["CONTROL_ENABLED"]})
