"""`/device`: the approval page a person opens from the terminal's verification URL.

Server-rendered HTML (Jinja, autoescaped). A mock sign-in (pick a known user's email, no
password) keeps the user in Flask's signed session cookie, next to a per-session CSRF token
that every form posts back. Redirects only ever go to `/device` itself, built here.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from mockportal.api import portal
from mockportal.api.control import PREFIX as CONTROL_PREFIX
from mockportal.domain.accounts import Account
from mockportal.domain.device import DeviceLogin, normalise_user_code
from mockportal.errors import Forbidden, InvalidRequest, PortalError

bp = Blueprint("web", __name__)
PREFIX = "/device"  # every route of this page starts with it
SESSION_PREFIXES = (PREFIX, CONTROL_PREFIX)  # this page and the dashboard (`dashboard.py`)

SCOPE_WORDS = {
    "inference:invoke": "Use Nous models, paid from your organisation's balance",
    "tool:invoke": "Run tools on your behalf",
    "billing:manage": "Buy credits and change auto-reload with your organisation's saved card",
}
PROBLEM_TITLES = {
    "user_code_expired": "This code has expired",
    "user_code_used": "This code was already used",
    "csrf_failed": "This form has expired",
}
# No scripts at all, inline styles only, forms post to this origin, never inside a frame.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")


class PageSessions(SecureCookieSessionInterface):
    """Only the pages with forms have a session: this one and the control plane's dashboard.
    Every other request gets Flask's null session, which spares it building the cookie's
    signing serializer (~20 us, a twentieth of a billing read). Flask opens the session before
    it routes the request, so this goes by the path."""

    def open_session(self, app, request):
        if not request.path.startswith(SESSION_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)


def page_headers(response):
    """What every HTML page of the portal sends: no scripts, never framed, never cached."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    # The URL carries the user code (or a control token); keep it out of Referer headers.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def csrf_token(key: str = "csrf") -> str:
    """This session's CSRF token for a page's forms (`key` keeps one page's apart from another's)."""
    if key not in session:
        session[key] = secrets.token_urlsafe(32)
    return session[key]


def require_csrf(key: str = "csrf") -> None:
    """A POSTed form carries this session's CSRF token, else 403 `csrf_failed`."""
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "").encode()
    expected = session.get(key, "").encode()
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("csrf_failed", "This form did not come from this page or your session "
                        "has ended. Go back, reload the page and try again.")


bp.after_request(page_headers)
bp.before_request(require_csrf)


@bp.context_processor
def _template_globals():
    return {"csrf_token": csrf_token, "scope_words": SCOPE_WORDS}


@bp.errorhandler(PortalError)
def _problem(error: PortalError):
    if error.code == "unknown_user_code":
        # Offer the form again, with what they typed, so they can correct it.
        return _page("enter_code.html", error.status, entered=request.values.get("user_code", ""),
                     error=error.message)
    title = PROBLEM_TITLES.get(error.code, "This login cannot continue")
    return _page("problem.html", error.status, title=title, message=error.message)


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def _signed_in() -> Account | None:
    email = session.get("user")
    return None if email is None else portal().accounts.find(email)


def _back_to(login: DeviceLogin):
    """To the page for this code (a path built here, never taken from the request)."""
    return redirect(url_for("web.device", user_code=login.user_code), 303)


@bp.get("/device")
def device():
    entered = request.args.get("user_code")
    if entered is None:
        return _page("enter_code.html", entered="")
    login = portal().device.pending(entered)
    account = _signed_in()
    if account is None:
        return _page("sign_in.html", login=login, users=portal().accounts.everyone())
    return _page("consent.html", login=login, account=account)


@bp.post("/device/sign-in")
def sign_in():
    login = portal().device.pending(request.form.get("user_code", ""))
    email = request.form.get("email", "").strip()
    if portal().accounts.find(email) is None:
        return _page("sign_in.html", 400, login=login, users=portal().accounts.everyone(),
                     entered_email=email, error="No user has that email address.")
    session["user"] = email
    session.pop("csrf", None)  # a new token per signed-in session
    return _back_to(login)


@bp.post("/device/sign-out")
def sign_out():
    session.pop("user", None)
    user_code = normalise_user_code(request.form.get("user_code", ""))
    return redirect(url_for("web.device", user_code=user_code), 303)


@bp.post("/device/decision")
def decide():
    entered = request.form.get("user_code", "")
    account = _signed_in()
    if account is None:
        return _back_to(portal().device.pending(entered))
    decision = request.form.get("decision")
    if decision == "approve":
        allow = request.form.get("allow_terminal_billing") == "on"
        login = portal().device.approve(entered, account.email, allow)
    elif decision == "deny":
        login = portal().device.deny(entered)
    else:
        raise InvalidRequest("validation_failed", "Choose Approve or Deny.")
    return _page("decided.html", login=login, account=account, approved=decision == "approve")
