"""`GET /openapi.json`: the machine-readable contract (CONTRACT.md sections 1-6), served as stored.

The document lives next to the code (`mockportal/openapi.json`) so the contract suite, the
schemathesis run and any client generator read the very file the portal ships.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("spec", __name__)


@cache
def openapi_text() -> str:
    text = resources.files("mockportal").joinpath("openapi.json").read_text(encoding="utf-8")
    json.loads(text)  # a broken document must fail loudly at the first request, not reach a client
    return text


@bp.get("/openapi.json")
def openapi_document():
    return Response(openapi_text(), mimetype="application/json")
