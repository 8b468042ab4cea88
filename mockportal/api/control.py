"""`/_mock/*`: mockportal's own control plane (CONTRACT.md section 8). Not part of the real portal."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from mockportal.api import guard, json_object, portal
from mockportal.domain.clock import iso
from mockportal.domain.tokens import ACCESS_TOKEN_SECONDS
from mockportal.errors import InvalidRequest, Unauthenticated
from mockportal.domain.faults import MAX_DELAY_MS
from mockportal.domain.journal import ENTRIES_KEPT
from mockportal.domain.stripe import DEFAULT_RETRY_AFTER
from mockportal.wire import require_bool, require_number, require_whole, whole_number_text

PREFIX = "/_mock"
bp = Blueprint("control", __name__, url_prefix=PREFIX)

REVOCATION_ACTORS = ("self", "admin")


@bp.before_request
def _require_control_token():
    expected = current_app.config["CONTROL_TOKEN"]
    if expected and not guard.same_header_secret(request.headers.get("Authorization", ""), f"Bearer {expected}"):
        raise Unauthenticated("control_token_required", "Send Authorization: Bearer <control token>.")


# A web page may post anything to a local portal; only JSON writes are the control plane's.
guard.require_json_writes(bp)


def _ok(**extra):
    return jsonify({"ok": True, **extra})


@bp.post("/reset")
def reset():
    body = json_object()
    if "orgs" in body:
        portal().reset(fixture=body)
    elif "fixture" in body:
        portal().reset(fixture=body["fixture"])
    else:
        scenario = body.get("scenario", "demo")
        if not isinstance(scenario, str):
            raise InvalidRequest("validation_failed", "scenario must be a name.")
        portal().reset(scenario=scenario)
    return _ok()


@bp.post("/tokens")
def mint_token():
    body = json_object()
    user = body.get("user")
    scope = body.get("scope")
    if not isinstance(user, str) or (scope is not None and not isinstance(scope, str)):
        raise InvalidRequest("validation_failed", 'Send {"user": email, "scope": "...", "expiresIn": seconds}.')
    expires_in = require_whole(body.get("expiresIn", ACCESS_TOKEN_SECONDS), "expiresIn", 1, 10**8)
    return jsonify(portal().tokens.mint(user, scope, expires_in))


@bp.post("/device/approve")
def approve_device():
    """`{"userCode", "user", "allowTerminalBilling": bool}`: what Approve on /device does."""
    body = json_object()
    user_code, user = body.get("userCode"), body.get("user")
    if not isinstance(user_code, str) or not isinstance(user, str):
        raise InvalidRequest("validation_failed", 'Send {"userCode", "user": email, "allowTerminalBilling": bool}.')
    allow = require_bool(body.get("allowTerminalBilling", False), "allowTerminalBilling")
    return _ok(scope=portal().device.approve(user_code, user, allow).granted_scope)


@bp.post("/device/deny")
def deny_device():
    """`{"userCode"}`: what Deny on /device does."""
    user_code = json_object().get("userCode")
    if not isinstance(user_code, str):
        raise InvalidRequest("validation_failed", 'Send {"userCode"}.')
    portal().device.deny(user_code)
    return _ok()


def _clock_view():
    clock = portal().clock
    now = clock.now()
    return jsonify({"now": iso(now), "epoch": now, "frozen": clock.is_frozen()})


@bp.get("/clock")
def read_clock():
    return _clock_view()


@bp.post("/clock")
def move_clock():
    seconds = require_number(json_object().get("advanceSeconds"), "advanceSeconds")
    if seconds < 0 or seconds > 10**9:
        raise InvalidRequest("validation_failed", "advanceSeconds must be between 0 and 1e9; time only moves forward.")
    portal().clock.advance(float(seconds))
    return _clock_view()


@bp.get("/orgs/<org_id>")
def org_report(org_id: str):
    return jsonify(portal().admin.report(org_id))


@bp.patch("/orgs/<org_id>")
def edit_org(org_id: str):
    portal().admin.edit_org(org_id, json_object())
    return jsonify(portal().admin.report(org_id))


@bp.patch("/users/<email>")
def edit_user(email: str):
    portal().admin.edit_user(email, json_object())
    return _ok()


@bp.post("/orgs/<org_id>/outcomes")
def script_outcomes(org_id: str):
    portal().admin.script_outcomes(org_id, json_object())
    return _ok()


@bp.post("/orgs/<org_id>/usage")
def debit_usage(org_id: str):
    portal().admin.debit_usage(org_id, json_object())
    return jsonify(portal().admin.report(org_id))


@bp.post("/faults")
def add_fault():
    body = json_object()
    method, path = body.get("method", "*"), body.get("path")
    error = body.get("error", "temporarily_unavailable")
    if not isinstance(method, str) or not isinstance(path, str) or not isinstance(error, str):
        raise InvalidRequest("validation_failed", 'Send {"method", "path", "status", "error", "retryAfter", "count", "delayMs"}.')
    status = body.get("status")
    retry_after = body.get("retryAfter")
    portal().faults.add(
        method=method, path=path, error=error,
        status=None if status is None else require_whole(status, "status", 400, 599),
        message=str(body.get("message", "Injected fault.")),
        retry_after=None if retry_after is None else require_whole(retry_after, "retryAfter", 0, 86400),
        delay_ms=require_whole(body.get("delayMs", 0), "delayMs", 0, MAX_DELAY_MS),
        count=require_whole(body.get("count", 1), "count", 1, 10_000))
    return _ok()


@bp.delete("/faults")
def clear_faults():
    portal().faults.clear()
    return _ok()


@bp.post("/revocations")
def revoke():
    """`{"kind": "spending"|"session", "token" | "user", "actor": "self"|"admin"}`."""
    body = json_object()
    kind, actor = body.get("kind"), body.get("actor", "admin")
    if kind not in ("spending", "session") or actor not in REVOCATION_ACTORS:
        raise InvalidRequest("validation_failed", 'kind is "spending" or "session"; actor is "self" or "admin".')
    token, user = body.get("token"), body.get("user")
    if not isinstance(token, str) and not isinstance(user, str):
        raise InvalidRequest("validation_failed", "Name the grant by an access or refresh token, or a user email.")
    tokens = portal().tokens
    grants = tokens.grants_for(token=token if isinstance(token, str) else None,
                               user_email=user if isinstance(user, str) else None)
    for grant_id in grants:
        if kind == "spending":
            tokens.revoke_spending(grant_id, actor)
        else:
            tokens.revoke_session(grant_id)
    return _ok(revokedGrants=len(grants))


def _stripe_view(status):
    return jsonify({"available": status.available, "retryAfter": status.retry_after})


@bp.get("/stripe")
def stripe_status():
    return _stripe_view(portal().stripe.status())


@bp.post("/stripe")
def switch_stripe():
    """`{"available": bool, "retryAfter": 30}`: the whole server's Stripe switch."""
    body = json_object()
    if set(body) - {"available", "retryAfter"} or "available" not in body:
        raise InvalidRequest("validation_failed", 'Send {"available": bool, "retryAfter": seconds}.')
    retry_after = require_whole(body.get("retryAfter", DEFAULT_RETRY_AFTER), "retryAfter", 0, 86400)
    return _stripe_view(portal().stripe.set(require_bool(body["available"], "available"), retry_after))


@bp.post("/inference/replies")
def queue_replies():
    """`{"org", "replies": [{"content", "reasoning", "toolCalls", "chunkDelayMs"}]}`: the org's
    next completions answer these, in order."""
    body = json_object()
    org, replies = body.get("org"), body.get("replies")
    if not isinstance(org, str) or set(body) - {"org", "replies"}:
        raise InvalidRequest("validation_failed", 'Send {"org": id, "replies": [...]}.')
    return _ok(queued=portal().replies.queue(org, replies))


@bp.delete("/inference/replies")
def clear_replies():
    """Clear the queue of `{"org"}`, or of every org."""
    org = json_object().get("org")
    if org is not None and not isinstance(org, str):
        raise InvalidRequest("validation_failed", 'Send {"org": id} or nothing.')
    portal().replies.clear(org)
    return _ok()


@bp.get("/requests")
def journal():
    limit = whole_number_text(request.args.get("limit", "1000"), "limit", at_most=ENTRIES_KEPT)
    return jsonify({"requests": portal().journal.entries(limit)})


@bp.delete("/requests")
def clear_journal():
    portal().journal.clear()
    return _ok()
