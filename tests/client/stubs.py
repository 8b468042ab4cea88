"""A requests adapter that answers from a script instead of the network.

For what the real portal cannot be made to do on demand (an HTML 200, an empty body, a
timeout) and for recording exactly what the client sent.
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

Answer = tuple[int, Any, dict[str, str]]  # status, body (dict → JSON, str/bytes → as is), headers


def response_for(request: requests.PreparedRequest, status: int, body: Any, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.url = request.url
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers = {"Content-Type": "application/json", **headers}
    response._content = body.encode() if isinstance(body, str) else body
    response._content_consumed = True  # so a streamed read (`iter_lines`) reads the body above
    response.headers.update(headers)
    return response


class Scripted(BaseAdapter):
    """Answers each request with the next answer queued for its `METHOD /path`; an answer may
    be an exception instance (raised) or a callable taking the request."""

    def __init__(self, script: dict[str, list[Answer | Exception | Callable]]):
        super().__init__()
        self.script = {route: list(answers) for route, answers in script.items()}
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        answer = self.script[f"{request.method} {urlsplit(request.url).path}"].pop(0)
        if callable(answer) and not isinstance(answer, Exception):
            answer = answer(request)
        if isinstance(answer, Exception):
            raise answer
        return response_for(request, *answer)

    def close(self):
        pass


def session_with(adapter: BaseAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    return session


class Recording(requests.adapters.HTTPAdapter):
    """Forwards to the real portal and keeps every request it sent."""

    def __init__(self):
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        return super().send(request, **kwargs)


class LosesAnswers(Recording):
    """Loses the answer to the first `lose` requests matching `METHOD /path`: the portal did
    the work, the client saw a dropped connection."""

    def __init__(self, route: str, lose: int = 1):
        super().__init__()
        self.route = route
        self.lose = lose

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if f"{request.method} {urlsplit(request.url).path}" == self.route and self.lose > 0:
            self.lose -= 1
            raise requests.ConnectionError("connection reset after the request was sent")
        return response
