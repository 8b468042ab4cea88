"""`/_mock/`: the control plane's dashboard, a server-rendered page beside its JSON verbs.

It renders the report objects the JSON control plane answers with (`Admin.report` is
`GET /_mock/orgs/{id}`, `Journal.entries` is `GET /_mock/requests`), gathered at one portal
instant by `Overview.read` and shaped once by `overview_view`: the page renders that dict and
`/_mock/dashboard/data.json` is that dict.

Its actions are plain HTML forms posted to `/_mock/dashboard/...` (form-encoded, so apart
from the JSON verbs and their rules): POST only, each carrying this session's CSRF token from
Flask's signed cookie, each answered with a redirect to `/_mock/` and nowhere else. With
`--control-token` the page asks for the token once (its form, or `?token=` in the address)
and keeps a keyed fingerprint of it in the session. Without a token it answers only to
loopback host names: a page on another site that rebinds its DNS name to 127.0.0.1 would
otherwise read a CSRF token and post with it.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)

from mockportal.api import portal
from mockportal.api.guard import same_header_secret, same_secret, secret_bytes
from mockportal.api.control import PREFIX
from mockportal.api.web import csrf_token, page_headers, require_csrf
from mockportal.domain.admin import Snapshot
from mockportal.domain.clock import iso
from mockportal.domain.scenarios import SCENARIOS
from mockportal.errors import Forbidden, InvalidRequest, PortalError, Unauthenticated, error_response
from mockportal.wire import is_ascii_digits

bp = Blueprint("dashboard", __name__, url_prefix=PREFIX)
CSRF_KEY = "dashboard_csrf"  # apart from the approval page's, which a sign-in there renews
AUTH_KEY = "dashboard_auth"
ADVANCE_STEPS = {60: "+1 min", 3600: "+1 h", 86400: "+1 day", 30 * 86400: "+30 days"}
JOURNAL_LIMIT = 100
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

bp.after_request(page_headers)


# -- the guard ----------------------------------------------------------------------------------
def _control_token() -> str | None:
    return current_app.config["CONTROL_TOKEN"]


def _fingerprint(token: str) -> str:
    """What the session keeps of the control token: keyed, so the cookie never holds the token."""
    return hmac.new(current_app.secret_key.encode(), secret_bytes(token), "sha256").hexdigest()


def _signed_in(expected: str) -> bool:
    bearer = request.headers.get("Authorization", "")
    return (same_header_secret(bearer, f"Bearer {expected}")
            or same_secret(session.get(AUTH_KEY, ""), _fingerprint(expected)))


def _host_name() -> str:
    try:
        return urlsplit("//" + request.host).hostname or ""
    except ValueError:  # a malformed Host header names no host of ours
        return ""


@bp.before_request
def _guard():
    """Every form carries the CSRF token; then the control token (when the server has one),
    else a loopback host name."""
    require_csrf(CSRF_KEY)
    expected = _control_token()
    if not expected:
        if _host_name() not in LOOPBACK_NAMES:
            raise Forbidden("loopback_only", "Without a control token the dashboard answers only on "
                            "localhost or 127.0.0.1. Open it there, or start the server with --control-token.")
        return None
    if request.endpoint == "dashboard.log_in":
        return None
    if request.method == "GET" and "token" in request.args:
        return _log_in(request.args["token"])
    if not _signed_in(expected):
        raise Unauthenticated("control_token_required", "This dashboard needs the server's control token.")
    return None


def _log_in(token: str):
    """Keep the token's fingerprint in the session and go to the dashboard (so a `?token=`
    leaves the address bar at once)."""
    expected = _control_token() or ""
    if not same_secret(token, expected):
        raise Unauthenticated("control_token_required", "That is not the server's control token.")
    session[AUTH_KEY] = _fingerprint(expected)
    session.pop(CSRF_KEY, None)  # a new CSRF token for the signed-in session
    return _back("Signed in.")


@bp.errorhandler(PortalError)
def _problem(error: PortalError):
    if request.endpoint == "dashboard.data":
        return error_response(error)
    if error.code == "control_token_required":
        return _page("dashboard_login.html", error.status, error=error.message if request.method == "POST"
                     or "token" in request.args else None)
    return _page("dashboard_problem.html", error.status, title=error.code.replace("_", " ").capitalize(),
                 message=error.message)


def _page(template: str, status: int = 200, **context):
    return render_template(template, csrf_token=lambda: csrf_token(CSRF_KEY),
                           token_required=bool(_control_token()), **context), status


def _back(notice: str):
    """After an action: say what was done, on the dashboard (a path built here, never taken
    from the request)."""
    flash(notice)
    return redirect(url_for("dashboard.index"), 303)


# -- reading ------------------------------------------------------------------------------------
def _snapshot() -> Snapshot:
    return portal().overview.read(JOURNAL_LIMIT, path_part=request.args.get("path", "").strip() or None,
                                  status=request.args.get("status", "").strip() or None)


@bp.get("/")
def index():
    view = overview_view(_snapshot())
    return _page("dashboard.html", view=view, steps=ADVANCE_STEPS, filters=request.args)


@bp.get("/dashboard/data.json")
def data():
    """The page's data as JSON: the same object the page renders."""
    return jsonify(overview_view(_snapshot()))


# -- actions ------------------------------------------------------------------------------------
def _form_bool(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("true", "false"):
        raise InvalidRequest("validation_failed", f"{name} is true or false.")
    return value == "true"


@bp.post("/dashboard/login")
def log_in():
    return _log_in(request.form.get("token", ""))


@bp.post("/dashboard/logout")
def log_out():
    session.pop(AUTH_KEY, None)
    return _back("Signed out.")


@bp.post("/dashboard/clock")
def advance_clock():
    seconds = request.form.get("seconds", "")
    if not is_ascii_digits(seconds) or int(seconds) not in ADVANCE_STEPS:
        raise InvalidRequest("validation_failed", f"Move the clock by one of {sorted(ADVANCE_STEPS)} seconds.")
    now = portal().clock.advance(int(seconds))
    return _back(f"Clock moved {ADVANCE_STEPS[int(seconds)]}: it is now {iso(now)}.")


@bp.post("/dashboard/device/approve")
def approve_login():
    user = request.form.get("user", "")
    login = portal().device.approve(request.form.get("user_code", ""), user,
                                    request.form.get("allow_terminal_billing") == "on")
    return _back(f"Approved {login.user_code} as {user}: its token's scope is {login.granted_scope!r}.")


@bp.post("/dashboard/device/deny")
def deny_login():
    login = portal().device.deny(request.form.get("user_code", ""))
    return _back(f"Denied {login.user_code}.")


@bp.post("/dashboard/stripe")
def switch_stripe():
    status = portal().stripe.set(_form_bool("available"))
    return _back("Stripe is available." if status.available else
                 f"Stripe is off: plan changes and upgrades answer 503 (Retry-After {status.retry_after}).")


@bp.post("/dashboard/orgs/<org_id>/kill-switch")
def kill_switch(org_id: str):
    enabled = _form_bool("enabled")
    portal().admin.edit_org(org_id, {"cliBillingEnabled": enabled})
    return _back(f"Terminal billing for {org_id} is {'on' if enabled else 'off'}.")


@bp.post("/dashboard/reset")
def reset():
    scenario = request.form.get("scenario", "")
    portal().reset(scenario=scenario)
    return _back(f"Reset to the {scenario} scenario; the clock is back at its start.")


# -- the view -----------------------------------------------------------------------------------
def overview_view(snapshot: Snapshot) -> dict[str, Any]:
    """The dashboard's one object: what the page renders and `data.json` answers. Its parts are
    the control plane's own answers (`/_mock/clock`, `/_mock/stripe`, `/_mock/orgs/{id}`,
    `/_mock/requests`, newest first here)."""
    return {
        "clock": {"now": iso(snapshot.now), "epoch": snapshot.now, "frozen": snapshot.frozen},
        "stripe": {"available": snapshot.stripe.available, "retryAfter": snapshot.stripe.retry_after},
        "tierNames": {tier.id: tier.name for tier in snapshot.tiers},
        "orgs": snapshot.orgs,
        "deviceLogins": [{"userCode": login.user_code, "clientId": login.client_id, "clientName": login.client_name,
                          "scopes": list(login.scopes), "wantsBilling": login.wants_billing,
                          "expiresAt": iso(login.expires_at)} for login in snapshot.logins],
        "users": [{"email": user.email, "name": user.name, "role": user.role, "orgId": user.org.id,
                   "orgName": user.org.name, "canChangePlan": user.can_change_plan} for user in snapshot.users],
        "faults": [{"method": armed.method, "path": armed.path, "remaining": armed.remaining,
                    "status": armed.fault.status, "error": armed.fault.error, "message": armed.fault.message,
                    "retryAfter": armed.fault.retry_after, "delayMs": armed.fault.delay_ms}
                   for armed in snapshot.faults],
        "journal": list(reversed(snapshot.journal)),
        "scenarios": sorted(SCENARIOS),
    }
