"""Where the client talks to and where it keeps its login.

The base URL comes from `HERMES_PORTAL_BASE_URL`, then `NOUS_PORTAL_BASE_URL` (the names the
Hermes CLI reads), then the caller's default. Inference goes to `NOUS_INFERENCE_BASE_URL`, else
to `/v1` on the portal's base (where mockportal serves it). Credentials live in `$HERMES_HOME`
(default `~/.hermes`), like the Hermes CLI's own auth file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DEFAULT_BASE_URL = "https://portal.nousresearch.com"
BASE_URL_VARIABLES = ("HERMES_PORTAL_BASE_URL", "NOUS_PORTAL_BASE_URL")
INFERENCE_URL_VARIABLE = "NOUS_INFERENCE_BASE_URL"
CREDENTIALS_FILE = "portal_credentials.json"

CLIENT_ID = "hermes-cli"
LOGIN_SCOPE = "inference:invoke tool:invoke"
BILLING_MANAGE = "billing:manage"


def base_url(default: str = DEFAULT_BASE_URL, environ: Mapping[str, str] = os.environ) -> str:
    """The first non-blank of the two variables, else `default`; no trailing slash."""
    for name in BASE_URL_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value.rstrip("/")
    return default.rstrip("/")


def inference_base_url(portal_base_url: str, environ: Mapping[str, str] = os.environ) -> str:
    """`NOUS_INFERENCE_BASE_URL` when set, else the portal's base plus `/v1`; no trailing slash."""
    value = environ.get(INFERENCE_URL_VARIABLE, "").strip()
    return (value or portal_base_url.rstrip("/") + "/v1").rstrip("/")


def credentials_path(environ: Mapping[str, str] = os.environ) -> Path:
    home = environ.get("HERMES_HOME", "").strip()
    return (Path(home) if home else Path.home() / ".hermes") / CREDENTIALS_FILE
