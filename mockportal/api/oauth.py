"""`/api/oauth/*`: the device flow, the token endpoint and the account (CONTRACT.md section 6).

Requests are form-encoded (RFC 6749/8628); errors on the device and token endpoints are
`{"error", "error_description"}`, always JSON.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from mockportal.api import authenticated, portal
from mockportal.api.guard import served_origin
from mockportal.api.views import account_view
from mockportal.errors import OAuthError, error_response

bp = Blueprint("oauth", __name__, url_prefix="/api/oauth")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
REFRESH_HEADER = "x-nous-refresh-token"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return error_response(OAuthError("payload_too_large", "Request body is larger than 64 KiB.", status=413))


def form_field(name: str, *, required: bool = True) -> str | None:
    """One form parameter, blank treated as absent; sent twice is `invalid_request`
    (RFC 6749 section 3.2: parameters must not be repeated)."""
    values = request.form.getlist(name)
    if len(values) > 1:
        raise OAuthError("invalid_request", f"{name} was sent more than once.")
    value = values[0].strip() if values else ""
    if not value and required:
        raise OAuthError("invalid_request",
                         f"Send {name} as an application/x-www-form-urlencoded field.")
    return value or None


@bp.post("/device/code")
def device_code():
    pair = portal().device.start(form_field("client_id"), form_field("scope", required=False))
    return jsonify({
        "device_code": pair.device_code,
        "user_code": pair.user_code,
        "verification_uri": served_origin() + url_for("web.device"),
        "verification_uri_complete": served_origin() + url_for("web.device", user_code=pair.user_code),
        "expires_in": pair.expires_in,
        "interval": pair.interval,
    })


@bp.post("/token")
def token():
    grant_type = form_field("grant_type")
    if grant_type == DEVICE_GRANT:
        return jsonify(portal().device.redeem(form_field("client_id"), form_field("device_code")))
    if grant_type == REFRESH_GRANT:
        return jsonify(portal().tokens.refresh(form_field("client_id"), request.headers.get(REFRESH_HEADER)))
    raise OAuthError("unsupported_grant_type",
                     f"grant_type must be {DEVICE_GRANT} or {REFRESH_GRANT}.")


@bp.get("/account")
def account():
    return jsonify(account_view(portal().entitlements.of(authenticated())))
