"""HTTP to the portal: one requests session, JSON in and out, every failure a typed error.

A 2xx answer must be a JSON object (CONTRACT.md §1: an HTML or empty 2xx means "endpoint
unavailable"); anything else, and any connection failure or timeout, is `network_error`.
Numbers in answers are read as Decimal, never float. Errors come in two shapes: the portal's
`{"error": "<code>", "message"}` and the inference API's OpenAI shape `{"error": {"message",
"type", "code"}}` (CONTRACT.md §10); both become the same typed errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping
from urllib.parse import urljoin

import requests

from client.errors import NetworkError, PortalError, error_class
from client.money import dumps

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def retry_after(headers: Mapping[str, str]) -> int | None:
    """`Retry-After` in whole seconds; the HTTP-date form and garbage read as absent."""
    value = headers.get("Retry-After", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None  # not `²`


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is empty, HTML, or not an object."""
    try:
        body = json.loads(response.content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def code_and_message(body: dict[str, Any], status: int) -> tuple[str, str]:
    """The machine code and the human text of an error body, in either shape."""
    error = body.get("error")
    if isinstance(error, dict):  # OpenAI-shaped: {"error": {"message", "type", "code"}}
        code = str(error.get("code") or error.get("type") or f"http_{status}")
        return code, str(error.get("message") or code)
    code = str(error or f"http_{status}")
    return code, str(body.get("message") or body.get("error_description") or code)


def error_from(response: requests.Response, base_url: str) -> PortalError:
    """The typed error for a non-2xx answer: the class by status and `error` code."""
    body = json_object(response)
    if body is None:
        return NetworkError(f"HTTP {response.status_code} without a JSON body from {response.url}",
                            status=response.status_code)
    code, message = code_and_message(body, response.status_code)
    portal_url = body.get("portalUrl")
    return error_class(response.status_code, code)(
        response.status_code, code, message,
        portal_url=urljoin(base_url + "/", portal_url) if isinstance(portal_url, str) else None,
        retry_after=retry_after(response.headers), payload=body, headers=response.headers)


class Transport:
    def __init__(self, base_url: str, session: requests.Session | None = None,
                 timeout: float = TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def send(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
             form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             stream: bool = False) -> requests.Response:
        """Send one request; return the 2xx response (its body unread when `stream`) or raise
        the matching `PortalError`."""
        sent = {"Accept": "text/event-stream" if stream else "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data: Any = form
        if json_body is not None:
            sent["Content-Type"] = "application/json"
            data = dumps(json_body).encode()  # Decimals as their literal text, never via float
        try:
            response = self.session.request(method, self.base_url + path, data=data, headers=sent,
                                            timeout=self.timeout, allow_redirects=False, stream=stream)
        except requests.RequestException as exc:
            raise NetworkError(f"{method} {path}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise error_from(response, self.base_url)
        return response

    def request(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
                form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Reply:
        """Send one request; return the 2xx JSON object or raise the matching `PortalError`."""
        response = self.send(method, path, token=token, json_body=json_body, form=form, headers=headers)
        body = json_object(response)
        if body is None:
            raise NetworkError(f"{method} {path}: the answer was not a JSON object (endpoint unavailable?)",
                               status=response.status_code)
        return Reply(response.status_code, body, response.headers)
