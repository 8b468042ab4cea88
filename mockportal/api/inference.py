"""`/v1/*`: the metered, OpenAI-compatible inference API (CONTRACT.md section 10).

`/models` and `/chat/completions` at the root answer like their `/v1` forms. Every error here,
injected faults included, has the OpenAI shape `{"error": {"message", "type", "code"}}`, and a
body may be as large as 8 MiB. A streamed reply is sent after the request's store transaction
has committed: no lock is held while it streams or waits between chunks, and it is billed once
it has been generated, even if the client has gone.
"""

from __future__ import annotations

import time
from typing import Iterator

from flask import Blueprint, Response, g, jsonify, request

from mockportal.api import authenticated, portal
from mockportal.api.completions import (completion_view, credits_headers, journal_detail, model_view,
                                        models_view, rate_limit_headers, stream_events)
from mockportal.domain.metering import Admission, OverRateLimit
from mockportal.errors import PortalError, shape_errors

bp = Blueprint("inference", __name__)
PATHS = ("/v1/", "/models", "/chat/completions")  # the surface: its errors are OpenAI-shaped
MAX_BODY_BYTES = 8 * 1024 * 1024
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_credits",
               403: "permission_error", 404: "invalid_request_error", 413: "invalid_request_error",
               429: "rate_limit_error"}


@bp.before_request
def _large_bodies():
    request.max_content_length = MAX_BODY_BYTES


def openai_error(error: PortalError) -> Response:
    kind = ERROR_TYPES.get(error.status, "server_error" if error.status >= 500 else "invalid_request_error")
    response = jsonify({"error": {"message": error.message, "type": kind, "code": error.code}})
    response.status_code = error.status
    response.headers.update(error.headers)
    if isinstance(error, OverRateLimit):
        response.headers.update(rate_limit_headers(error.windows))
    return response


bp.record_once(lambda setup: shape_errors(setup.app, PATHS, openai_error))


@bp.get("/v1/models")
@bp.get("/models")
def models():
    """Public: the catalogue with per-token pricing, whatever the Authorization."""
    return jsonify(models_view(portal().metering.models()))


@bp.get("/v1/models/<path:model_id>")
def model(model_id: str):
    return jsonify(model_view(portal().metering.model(model_id)))


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions")
def chat_completions():
    admission = portal().metering.admit(authenticated(), request.get_data(cache=True))
    g.journal_detail = journal_detail(admission)
    headers = {**credits_headers(admission.credits), **rate_limit_headers(admission.windows)}
    if admission.request.stream:
        return Response(BilledStream(admission), headers={**headers, "Cache-Control": "no-cache"},
                        mimetype="text/event-stream")
    pause(admission, len(list(stream_events(admission))))
    portal().metering.bill(admission.completion.id)
    return jsonify(completion_view(admission)), 200, headers


def pause(admission: Admission, chunks: int) -> None:
    """A slow model's wait before a whole answer: the scripted per-chunk delay for every chunk,
    slept outside the store's transaction."""
    if admission.reply.chunk_delay_ms:
        with portal().store.outside_scope():
            time.sleep(admission.reply.chunk_delay_ms * chunks / 1000)


class BilledStream:
    """The events of a streamed reply, billed once when the stream ends or is closed early."""

    def __init__(self, admission: Admission):
        self.admission = admission
        self.metering = portal().metering
        self.billed = False

    def __iter__(self) -> Iterator[bytes]:
        delay = self.admission.reply.chunk_delay_ms / 1000
        try:
            for index, event in enumerate(stream_events(self.admission)):
                if delay and index:
                    time.sleep(delay)
                yield event
        finally:
            self.close()

    def close(self) -> None:
        if not self.billed:
            self.billed = True
            self.metering.bill(self.admission.completion.id)
