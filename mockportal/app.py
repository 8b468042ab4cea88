"""The application factory."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, g, request

from mockportal.api import (billing, control, dashboard, guard, health, inference, nous, oauth, pages, spec,
                            subscriptions, web)
from mockportal.domain.faults import Stalls
from mockportal.errors import PortalError, RateLimited, register_error_handlers
from mockportal.portal import Portal
from mockportal.store import WriteNeeded

MAX_BODY_BYTES = 64 * 1024  # the billing and OAuth surfaces; the inference API takes more


READ_METHODS = frozenset({"GET", "HEAD"})


class PortalFlask(Flask):
    def full_dispatch_request(self):
        """Everything a request does, from the fault check to the journal row, in one store
        scope; the control plane keeps one transaction per action.

        A GET first runs as a reader, without the write lock (`Store.reading`); if it must write
        after all (a charge or a plan cycle came due, a fault is used up), it is run again as a
        writer, in one transaction (`Store.request_scope`). A reader's journal row is written
        in a short transaction of its own once it has its answer."""
        if request.path.startswith(control.PREFIX):
            return super().full_dispatch_request()
        portal = self.extensions["mockportal"]
        if request.method in READ_METHODS and portal.store.reads_apart:
            try:
                with portal.store.reading():
                    response = super().full_dispatch_request()
                    at = portal.clock.now()  # read here, in the scope, so the journal need not
            except WriteNeeded:
                pass  # it must write: run it again, this time as a writer
            else:
                return journaled(portal, response, at)
        with portal.store.request_scope():
            return journaled(portal, super().full_dispatch_request())


def journaled(portal: Portal, response, at: float | None = None):
    """Write the request's journal row (a completion's adds its model, usage and cost), at
    portal time `at` (None: now)."""
    portal.journal.record(request.method, request.path, response.status_code, g.get("journal_detail"), at=at)
    return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the portal app.

    Config: DATABASE (file path; None = in-memory), SCENARIO (seeded into a fresh database),
    FROZEN_CLOCK_AT (epoch seconds; None = wall clock), CONTROL_ENABLED, CONTROL_TOKEN,
    BIND_HOST (the address served on, allowed as a Host besides the loopback names),
    PUBLIC_URL (the origin a proxy serves it under, allowed as a Host too; see `api/guard.py`) and
    THREADS (the server's threads per process: half of them may stall in injected delays).
    """
    app = PortalFlask(__name__)
    app.config.from_mapping(
        DATABASE=None,
        SCENARIO="demo",
        FROZEN_CLOCK_AT=None,
        CONTROL_ENABLED=True,
        CONTROL_TOKEN=None,
        THREADS=8,
        BIND_HOST=None,
        PUBLIC_URL=None,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        PROVIDE_AUTOMATIC_OPTIONS=False,  # an automatic OPTIONS answers with an empty non-JSON body
        SESSION_COOKIE_NAME="mockportal_session",  # the approval page's sign-in and CSRF token
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(test_config or {})
    # The contract forbids redirects; Werkzeug would redirect `//x` and `x/` otherwise.
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.extensions["served_hosts"] = guard.ServedHosts(app.config["BIND_HOST"], app.config["PUBLIC_URL"])

    portal = Portal.open(app.config["DATABASE"], frozen_at=app.config["FROZEN_CLOCK_AT"],
                         scenario=app.config["SCENARIO"])
    app.extensions["mockportal"] = portal
    app.secret_key = portal.session_secret
    stalls = Stalls(app.config["THREADS"])
    app.session_interface = web.PageSessions()

    register_error_handlers(app)
    app.register_blueprint(billing.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(inference.bp)
    app.register_blueprint(nous.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(spec.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    if app.config["CONTROL_ENABLED"]:
        app.register_blueprint(control.bp)
        app.register_blueprint(dashboard.bp)

    app.before_request(guard.check_host)  # first: a refused request touches nothing

    @app.before_request
    def _inject_fault():
        if request.path.startswith(control.PREFIX):
            return None
        fault = portal.faults.take(request.method, request.path)
        if fault is None:
            return None
        if fault.delay_ms:
            # A real stall (it is what the client must survive), with the fault's use
            # committed and the store free for every other request meanwhile.
            with stalls.slot(), portal.store.outside_scope():
                time.sleep(fault.delay_ms / 1000)
        if fault.status is None:
            return None
        if fault.retry_after is not None:
            raise RateLimited(fault.error, fault.message, retry_after=fault.retry_after, status=fault.status)
        raise PortalError(fault.error, fault.message, status=fault.status)

    @app.after_request
    def _no_store(response):
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
