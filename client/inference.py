"""The inference API (CONTRACT.md §10) and the account behind it (§9).

`InferenceApi` reads the model catalogue (per-token prices, public), streams a chat completion
over server-sent events, parsed by hand from the response lines, and reads the account's
entitlement. A streamed reply is read to the end of the response, not only to `data: [DONE]`:
the portal bills a reply once it has generated all of it, so an account read after the end
sees this reply's debit.

What a reply cost is its usage at the model's per-token prices, in Decimal, rounded up to
whole micros as the portal meters it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable, Iterator, Mapping

import requests

from client.billing import PortalSession, shaped
from client.errors import NetworkError, PortalError
from client.money import parse_money
from client.transport import Transport

MICRO = Decimal("0.000001")
DONE = "[DONE]"

Message = dict[str, Any]


@dataclass(frozen=True)
class Pricing:
    prompt: Decimal  # USD per prompt token
    completion: Decimal  # USD per completion token

    @property
    def free(self) -> bool:
        return self.prompt == 0 and self.completion == 0

    def cost(self, usage: "Usage") -> Decimal:
        """usage × price, rounded up to whole micros (1e-6 USD)."""
        exact = usage.prompt_tokens * self.prompt + usage.completion_tokens * self.completion
        return exact.quantize(MICRO, rounding=ROUND_CEILING)


@dataclass(frozen=True)
class Model:
    model_id: str
    name: str
    context_length: int
    pricing: Pricing


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str  # JSON text, as the model wrote it

    def message(self) -> Message:
        return {"id": self.call_id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True)
class Reply:
    """One streamed completion, as the terminal put it together."""

    completion_id: str | None
    content: str
    reasoning: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    usage: Usage | None  # None when the stream carried no usage chunk
    headers: Mapping[str, str] = field(repr=False, default_factory=dict)

    def message(self) -> Message:
        """The assistant message that goes back into the conversation."""
        if self.tool_calls:
            return {"role": "assistant", "content": self.content or None,
                    "tool_calls": [call.message() for call in self.tool_calls]}
        return {"role": "assistant", "content": self.content}


@dataclass(frozen=True)
class Account:
    """The entitlement part of `GET /api/oauth/account` (snake_case, JSON numbers)."""

    allowed: bool | None  # None: the portal did not say with a real bool
    reason: str | None
    total_usable: Decimal | None


def models_from(body: dict[str, Any]) -> dict[str, Model]:
    return {entry["id"]: Model(entry["id"], str(entry.get("name") or entry["id"]),
                               int(entry.get("context_length") or 0),
                               Pricing(parse_money(entry["pricing"]["prompt"]),
                                       parse_money(entry["pricing"]["completion"])))
            for entry in body["data"]}


def number(value: Any) -> Decimal | None:
    """A JSON number of the account (read as Decimal by the transport), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return Decimal(value)


def account_from(body: dict[str, Any]) -> Account:
    access = body.get("paid_service_access")
    if not isinstance(access, dict):
        raise ValueError("paid_service_access is missing")
    allowed = access.get("allowed")
    return Account(allowed=allowed if isinstance(allowed, bool) else None, reason=access.get("reason"),
                   total_usable=number(access.get("total_usable_credits")))


def events(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The JSON payload of each `data:` line, read to the end of the response. A payload with
    an `error` key is the stream failing after its headers; a response that ends before
    `data: [DONE]` was cut off."""
    done = False
    for raw in response.iter_lines():
        line = raw.decode("utf-8")
        if not line.startswith("data:") or done:
            continue
        data = line[len("data:"):].strip()
        if data == DONE:
            done = True  # keep reading: the response ends once the reply is billed
            continue
        payload = json.loads(data)
        if isinstance(payload.get("error"), dict):
            error = payload["error"]
            raise PortalError(response.status_code, str(error.get("code") or "stream_error"),
                              str(error.get("message") or "The reply failed while streaming."))
        yield payload
    if not done:
        raise NetworkError("The reply stream ended before data: [DONE]; it may have been cut off.")


class ReplyBuilder:
    """Joins the deltas of one streamed completion: text, reasoning, tool-call fragments."""

    def __init__(self, on_text: Callable[[str], None]):
        self.on_text = on_text
        self.completion_id: str | None = None
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        self.completion_id = self.completion_id or chunk.get("id")
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
            self.usage = Usage(int(usage["prompt_tokens"]), int(usage["completion_tokens"]), int(usage["total_tokens"]))
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                self.reasoning.append(delta["reasoning_content"])
            if delta.get("content") and not self.calls:  # text after a tool call has begun is not shown
                self.content.append(delta["content"])
                self.on_text(delta["content"])
            for fragment in delta.get("tool_calls") or ():
                call = self.calls.setdefault(int(fragment["index"]), {"id": None, "name": "", "arguments": []})
                function = fragment.get("function") or {}
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"].append(function.get("arguments") or "")
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def reply(self, headers: Mapping[str, str]) -> Reply:
        """The whole reply; a stream that ended without a `finish_reason` was cut off."""
        if self.finish_reason is None:
            raise NetworkError("The reply stream ended before the model finished (no finish_reason).")
        calls = tuple(ToolCall(call["id"] or f"call_{index}", call["name"], "".join(call["arguments"]))
                      for index, call in sorted(self.calls.items()))
        return Reply(self.completion_id, "".join(self.content), "".join(self.reasoning), calls,
                     self.finish_reason, self.usage, headers)


class InferenceApi:
    def __init__(self, session: PortalSession, transport: Transport):
        self.session = session  # the portal: the login, its renewal, the account
        self.transport = transport  # the inference API, e.g. {portal}/v1

    def models(self) -> dict[str, Model]:
        """The catalogue by id, with per-token prices; public."""
        body = self.transport.request("GET", "/models").body
        return shaped(models_from, body)

    def account(self) -> Account:
        body = self.session.request("GET", "/api/oauth/account").body
        return shaped(account_from, body)

    def stream_chat(self, model: str, messages: list[Message], *, tools: list[Message] | None = None,
                    on_text: Callable[[str], None] = lambda text: None) -> Reply:
        """One streamed chat completion with its usage; a 401 renews the login once."""
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                                "stream_options": {"include_usage": True}}
        if tools:
            body["tools"] = tools
        response = self.session.authorized(
            lambda token: self.transport.send("POST", "/chat/completions", token=token, json_body=body, stream=True))
        builder = ReplyBuilder(on_text)
        try:
            for chunk in events(response):
                builder.add(chunk)
        except requests.RequestException as exc:
            raise NetworkError(f"The reply stream broke off: {exc}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NetworkError(f"Unexpected event in the reply stream ({exc!r}).") from exc
        finally:
            response.close()
        return builder.reply(response.headers)
