"""HTTP surfaces, one blueprint each. Handlers read the request, call the domain, shape JSON."""

from __future__ import annotations

from typing import Any, Callable

from flask import Response, current_app, jsonify, request

from mockportal.domain.spending import SpendResult
from mockportal.domain.tokens import Principal
from mockportal.portal import Portal
from mockportal.wire import JsonBody, decode_json
from mockportal.errors import InvalidRequest


def portal() -> Portal:
    return current_app.extensions["mockportal"]


def authenticated() -> Principal:
    """Gate 1 for every bearer-authenticated endpoint."""
    return portal().tokens.authenticate(request.headers.get("Authorization"))


def json_body() -> JsonBody:
    return JsonBody(request.get_data(cache=True), request.content_type)


def json_object() -> dict:
    """A control-plane body: any JSON object (its keys are checked by the domain)."""
    raw = request.get_data(cache=True)
    value = decode_json(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise InvalidRequest("validation_failed", "Body must be a JSON object.")
    return value


def spend_response(result: SpendResult, view: Callable[[dict], Any] = lambda body: body) -> Response:
    """A spend's answer with its status; a replay says so in `Idempotent-Replayed: true`."""
    response = jsonify(view(result.response.body))
    response.status_code = result.response.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
