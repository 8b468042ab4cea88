"""What crossed the wire between one terminal and the portal, and a network that can lose an
answer on its way back.

The reference client takes its `requests.Session` from outside, so a scenario hands it this
one: every exchange is recorded for the Then steps, and an answer can be dropped *after* the
portal has really processed the request, which is the failure idempotency keys exist for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    request_headers: dict[str, str]
    request_content: bytes | None  # the request's body exactly as sent
    status: int
    headers: dict[str, str]
    body: Any  # the decoded JSON answer, or None (a streamed answer is left to the terminal)
    lost: bool  # the portal answered, but the terminal never saw it

    @property
    def request_body(self) -> Any:
        """The decoded JSON request, or None."""
        return decoded(self.request_content)

    @property
    def error(self) -> str | None:
        """The answer's error code, in the portal's shape or the inference API's OpenAI shape."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else error


def decoded(content: bytes | str | None) -> Any:
    try:
        return None if content is None else json.loads(content)
    except ValueError:
        return None


class WireTap(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []
        self._answers_to_lose: list[tuple[str, str]] = []

    def lose_next_answer(self, method: str, path: str) -> None:
        """The next answer to `method path` reaches the wire but never the terminal."""
        self._answers_to_lose.append((method, path))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        path = urlsplit(url).path
        lost = (method, path) in self._answers_to_lose
        streamed = kwargs.get("stream") and response.ok
        self.exchanges.append(Exchange(method, path, dict(response.request.headers), response.request.body,
                                       response.status_code, dict(response.headers),
                                       None if streamed else decoded(response.content), lost))
        if lost:
            self._answers_to_lose.remove((method, path))
            raise requests.ConnectionError(f"{method} {path}: connection reset before the answer arrived")
        return response

    def to(self, method: str, path_prefix: str) -> list[Exchange]:
        """The exchanges for one endpoint, oldest first."""
        return [e for e in self.exchanges if e.method == method and e.path.startswith(path_prefix)]
