"""Every error the portal answers, one class per family, rendered by one handler.

The domain raises these; `register_error_handlers` turns each into the contract's JSON shape
`{"error": code, "message": text, ...extras}` with its status and headers. Anything else
(a Werkzeug routing error, an unexpected exception) is mapped to the same shape, so no
response is ever HTML or a traceback.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("mockportal")


class PortalError(Exception):
    """Base: an error response with a machine code."""

    status = 400

    # The first parameter is positional-only: `code` is also an extra of cli_billing_disabled.
    def __init__(self, error: str, message: str, /, *, status: int | None = None,
                 headers: dict[str, str] | None = None, **extras: Any):
        super().__init__(message)
        self.code = error
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extras = extras

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extras}


class InvalidRequest(PortalError):
    """400 (or 413/415): the request itself is malformed or out of bounds."""


class Unauthenticated(PortalError):
    """401: no usable bearer token, or its session was revoked."""

    status = 401

    def __init__(self, error: str, message: str, /, **extras: Any):
        super().__init__(error, message, headers={"WWW-Authenticate": f'Bearer error="{error}"'}, **extras)


class Forbidden(PortalError):
    """403: a gate denied the request. Always carries a relative `portalUrl`."""

    status = 403

    def __init__(self, error: str, message: str, /, *, portal_url: str = "/billing", **extras: Any):
        super().__init__(error, message, portalUrl=portal_url, **extras)


class NotFound(PortalError):
    status = 404


class Conflict(PortalError):
    status = 409


class Unprocessable(PortalError):
    """422: a well-formed request that the org's plan or the catalogue cannot take. Carries
    `portalUrl`, which the client prints as "Portal: ..."."""

    status = 422

    def __init__(self, error: str, message: str, /, **extras: Any):
        super().__init__(error, message, portalUrl="/billing", **extras)


class Misdirected(PortalError):
    """421: the request names a host this portal does not serve (rendered by `render`, so a
    surface's own error page never answers it)."""

    status = 421


class RateLimited(PortalError):
    """429 / 503: try again after `retry_after` whole seconds."""

    status = 429

    def __init__(self, error: str, message: str, /, *, retry_after: int, status: int = 429, **extras: Any):
        super().__init__(error, message, status=status, headers={"Retry-After": str(retry_after)}, **extras)


class OAuthError(PortalError):
    """RFC 6749 token-endpoint errors: `{"error", "error_description"}`."""

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.message, **self.extras}


def error_response(error: PortalError):
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


Renderer = Callable[[PortalError], Response]


def shape_errors(app: Flask, paths: tuple[str, ...], render: Renderer) -> None:
    """Every error under `paths` (a path, or a prefix ending in `/`), routing errors and
    injected faults included, is rendered by `render`: a surface with its own error shape."""
    app.extensions.setdefault("error_shapes", []).append((paths, render))


def render(error: PortalError) -> Response:
    """The JSON answer for `error` in the shape of the surface the request is under."""
    return _renderer()(error)


def _renderer() -> Callable[[PortalError], Response]:
    path = request.path
    for paths, render in current_app.extensions.get("error_shapes", []):
        if any(path == p or p.endswith("/") and path.startswith(p) for p in paths):
            return render
    return error_response


def _limit_text(limit: int | None) -> str:
    if not limit:
        return "the limit"
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KiB"


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    400: "bad_request",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PortalError)
    def _portal_error(error: PortalError):
        return _renderer()(error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = _HTTP_CODES.get(exc.code or 500, "http_error")
        message = {
            413: f"Request body is larger than {_limit_text(request.max_content_length)}.",
            404: "No such endpoint.",
        }.get(exc.code or 0, exc.description or exc.name)
        response = _renderer()(PortalError(code, message, status=exc.code))
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return _renderer()(PortalError("internal_error", "The portal hit an unexpected error.", status=500))
