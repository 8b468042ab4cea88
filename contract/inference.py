"""The inference API as the Hermes agent consumes it: the OpenAI Python SDK (which 0.19.0 uses
for every chat call) and the agent's parser of the `x-nous-credits-*` headers, ported.

`ChatTerminal.complete` sends one chat completion through the SDK, streamed or not, checks the
answer against the OpenAPI document (a stream's headers and status only: its body is
`text/event-stream`), and accumulates what the SDK hands over exactly as an agent does: the
content, the reasoning, each tool call with its argument fragments joined, the finish reason
and the usage. It reads a stream to its end before returning, so the completion is billed by
the time the caller looks (the portal bills once the reply has been generated).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator, Mapping

import httpx
import openai

from contract import spec

# -- the credits headers, as hermes-agent 0.19.0 parses them (agent/credits_tracker.py) -------------
USD_PATTERN = re.compile(r"^-?\d+\.\d{2}$")
DENOMINATOR_KINDS = ("subscription_cap", "none")
# (header, field, may be negative): subscription is the only signed one.
REQUIRED_INTEGERS = (("x-nous-credits-remaining-micros", "remaining_micros", False),
                     ("x-nous-credits-subscription-micros", "subscription_micros", True),
                     ("x-nous-credits-rollover-micros", "rollover_micros", False),
                     ("x-nous-credits-purchased-micros", "purchased_micros", False),
                     ("x-nous-credits-as-of-ms", "as_of_ms", False))


def _integer(value: str | None) -> int | None:
    """`int(str(value))` as the client does: no float shapes ("1.5" is not an integer)."""
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def parse_credits_headers(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The credits state the client keeps from a response's headers, or None when it would
    drop the whole set: version not 1; a required micros value not an integer, or negative
    (all but subscription); a `*-usd` value not `^-?\\d+\\.\\d{2}$`; an unknown denominator
    kind; a paid-access flag not true/false; a complete limit pair with a bad value. Half a
    limit pair drops just the pair. USD values come back as Decimals."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if _integer(lowered.get("x-nous-credits-version")) != 1:
        return None
    state: dict[str, Any] = {"version": 1}
    for key, name, signed in REQUIRED_INTEGERS:
        value = _integer(lowered.get(key))
        if value is None or (value < 0 and not signed):
            return None
        state[name] = value
    for name in ("remaining", "subscription", "purchased"):
        value = lowered.get(f"x-nous-credits-{name}-usd")
        if value is None or not USD_PATTERN.match(value):
            return None
        state[f"{name}_usd"] = Decimal(value)
    limit_micros = lowered.get("x-nous-credits-subscription-limit-micros")
    limit_usd = lowered.get("x-nous-credits-subscription-limit-usd")
    state["subscription_limit_micros"] = state["subscription_limit_usd"] = None
    if limit_micros is not None and limit_usd is not None:
        micros = _integer(limit_micros)
        if micros is None or micros < 0 or not USD_PATTERN.match(limit_usd):
            return None
        state["subscription_limit_micros"], state["subscription_limit_usd"] = micros, Decimal(limit_usd)
    state["denominator_kind"] = lowered.get("x-nous-credits-denominator-kind", "none")
    if state["denominator_kind"] not in DENOMINATOR_KINDS:
        return None
    paid_access = lowered.get("x-nous-credits-paid-access", "true").strip().lower()
    if paid_access not in ("true", "false"):
        return None
    state["paid_access"] = paid_access == "true"
    state["disabled_reason"] = lowered.get("x-nous-credits-disabled-reason")
    return state


RATE_LIMIT_HEADERS = tuple(f"x-ratelimit-{kind}-{bucket}" for bucket in ("requests", "requests-1h", "tokens",
                                                                          "tokens-1h")
                           for kind in ("limit", "remaining", "reset"))


def rate_limit_values(headers: Mapping[str, str]) -> dict[str, int]:
    """The twelve `x-ratelimit-*` headers as integers; an absent or non-integer one is an error."""
    values = {}
    for name in RATE_LIMIT_HEADERS:
        raw = headers.get(name)
        assert raw is not None and raw.isdigit(), f"{name} is {raw!r}, not a whole number"
        values[name] = int(raw)
    return values


# -- the SDK, pointed at the portal ---------------------------------------------------------------
class _ReadToTheEnd(httpx.SyncByteStream):
    """A response body that, when closed early (the SDK stops at `data: [DONE]`), first reads
    what is left: the portal has finished the reply, and billed it, once its stream ends."""

    def __init__(self, stream: httpx.SyncByteStream):
        self._stream = stream
        self._chunks: Iterator[bytes] | None = None
        self.received = bytearray()  # the body as it came, for checking its framing

    def __iter__(self) -> Iterator[bytes]:
        self._chunks = iter(self._stream)
        for chunk in self._chunks:
            self.received += chunk
            yield chunk

    def close(self) -> None:
        for chunk in self._chunks if self._chunks is not None else self._stream:
            self.received += chunk
        self._stream.close()


class _WholeReplies(httpx.HTTPTransport):
    last: _ReadToTheEnd | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.stream = self.last = _ReadToTheEnd(response.stream)
        return response


def assert_framed(body: bytes, *, model: str, include_usage: bool) -> None:
    """§10's framing of a streamed answer: `data: <json>` events, each ended by a blank line,
    then `data: [DONE]`; every chunk with the same id, `object`, `created` and the requested
    model; the first delta from the assistant; one `finish_reason`, on the last chunk with
    choices; then a usage chunk with `choices: []` exactly when `include_usage` was asked."""
    text = body.decode()
    assert text.endswith("\n\n"), f"the stream does not end with a whole event: {text[-80:]!r}"
    events = text[:-2].split("\n\n")
    assert all(e.startswith("data: ") for e in events), f"an event that is not `data: `: {events}"
    assert events[-1] == "data: [DONE]", f"the stream does not end with data: [DONE]: {events[-1]!r}"
    chunks = [json.loads(e[len("data: "):]) for e in events[:-1]]
    assert {(c["id"], c["object"], c["created"], c["model"]) for c in chunks} == \
        {(chunks[0]["id"], "chat.completion.chunk", chunks[0]["created"], model)}, chunks
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[0]["choices"][0]["delta"].get("role") == "assistant", with_choices[0]
    finishes = [i for i, c in enumerate(with_choices) if c["choices"][0]["finish_reason"] is not None]
    assert finishes == [len(with_choices) - 1], f"one finish_reason, on the last chunk with choices: {chunks}"
    usage = [c for c in chunks if c.get("usage")]
    assert usage == ([chunks[-1]] if include_usage else []), f"usage chunks: {usage}"
    assert len(chunks) == len(with_choices) + len(usage), f"a chunk with neither choices nor usage: {chunks}"


@dataclass
class ToolCall:
    id: str | None
    name: str
    arguments: str


@dataclass
class ChatResult:
    """One chat completion as the SDK delivered it."""

    status: int
    headers: httpx.Headers
    body_bytes: int  # the request body exactly as sent: what prompt tokens are counted from
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: tuple[int, int, int] | None = None  # prompt, completion, total
    completion_id: str | None = None
    error: dict[str, Any] | None = None  # the OpenAI-shaped error's `error` object


class ChatTerminal:
    """An agent's inference client: `complete(token, ...)` is one chat call through the SDK."""

    def __init__(self, base_url: str):
        self._sent: list[bytes] = []
        self._transport = _WholeReplies()
        http = httpx.Client(transport=self._transport, timeout=30,
                            event_hooks={"request": [lambda request: self._sent.append(request.read())]})
        self.sdk = openai.OpenAI(base_url=base_url.rstrip("/") + "/v1", api_key="set-per-call",
                                 max_retries=0, http_client=http)

    def complete(self, token: str, model: str, messages: list[dict], *, stream: bool = False,
                 include_usage: bool = False, tools: list[dict] | None = None) -> ChatResult:
        self._sent.clear()
        options: dict[str, Any] = {"model": model, "messages": messages,
                                   "extra_headers": {"Authorization": f"Bearer {token}"}}
        if tools:
            options["tools"] = tools
        if stream:
            options.update(stream=True, stream_options={"include_usage": include_usage})
        try:
            raw = self.sdk.chat.completions.with_raw_response.create(**options)
        except openai.APIStatusError as refused:
            spec.assert_conforms(refused.response)
            return ChatResult(refused.status_code, refused.response.headers, len(self._sent[-1]),
                              error=refused.response.json()["error"])
        result = ChatResult(raw.status_code, raw.http_response.headers, len(self._sent[-1]))
        if stream:
            spec.assert_conforms(raw.http_response)  # status and headers: the body is an event stream
            self._accumulate(raw.parse(), result)
            raw.http_response.close()
            assert_framed(bytes(self._transport.last.received), model=model, include_usage=include_usage)
        else:
            self._whole(raw.parse(), result)
            spec.assert_conforms(raw.http_response)
        return result

    @staticmethod
    def _whole(completion, result: ChatResult) -> None:
        choice = completion.choices[0]
        message = choice.message
        result.completion_id = completion.id
        result.content = message.content
        result.reasoning = (message.model_extra or {}).get("reasoning_content")
        result.tool_calls = [ToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        result.finish_reason = choice.finish_reason
        usage = completion.usage
        result.usage = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)

    @staticmethod
    def _accumulate(chunks, result: ChatResult) -> None:
        """What an agent builds from the chunks: text and reasoning appended, each tool call's
        arguments joined by its index, the last finish reason, the usage chunk."""
        calls: dict[int, ToolCall] = {}
        for chunk in chunks:
            result.completion_id = chunk.id
            if chunk.usage is not None:
                result.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.total_tokens)
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content is not None:
                    result.content = (result.content or "") + delta.content
                reasoning = (delta.model_extra or {}).get("reasoning_content")
                if reasoning is not None:
                    result.reasoning = (result.reasoning or "") + reasoning
                for fragment in delta.tool_calls or []:
                    call = calls.setdefault(fragment.index, ToolCall(None, "", ""))
                    call.id = fragment.id or call.id
                    if fragment.function is not None:
                        call.name += fragment.function.name or ""
                        call.arguments += fragment.function.arguments or ""
                if choice.finish_reason is not None:
                    result.finish_reason = choice.finish_reason
        result.tool_calls = [calls[index] for index in sorted(calls)]


def scripted_message(reply: dict, *, streamed: bool) -> dict[str, Any]:
    """What the SDK must hand over for a scripted reply (`Control.replies`): a whole answer with
    tool calls has no content (CONTRACT section 10); a stream sends the text it has, and no
    text reads the same as empty."""
    calls = [(call.get("id", f"call_{index + 1}"), call["name"], call["arguments"])
             for index, call in enumerate(reply.get("toolCalls", []))]
    content = reply.get("content")
    if streamed:
        content = content or None
    elif calls:
        content = None
    return {"content": content, "reasoning": reply.get("reasoning") or None, "tool_calls": calls,
            "finish_reason": "tool_calls" if calls else "stop"}


def delivered_message(result: ChatResult, *, streamed: bool) -> dict[str, Any]:
    return {"content": (result.content or None) if streamed else result.content,
            "reasoning": result.reasoning or None,
            "tool_calls": [(c.id, c.name, c.arguments) for c in result.tool_calls],
            "finish_reason": result.finish_reason}
