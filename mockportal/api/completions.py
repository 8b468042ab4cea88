"""The shapes of the inference surface (CONTRACT.md section 10): chat completion bodies, the
server-sent events of a streamed one, and the `x-nous-credits-*` and `x-ratelimit-*` headers."""

from __future__ import annotations

import json
import re
from decimal import ROUND_DOWN, Decimal
from typing import Any, Iterator

from mockportal.domain.credits import Credits
from mockportal.domain.metering import MICRO, Admission, Window
from mockportal.domain.replies import Reply
from mockportal.store.records import Model
from mockportal.wire import money

CENT = Decimal("0.01")
ARGUMENT_PIECE = 16  # characters of a tool call's arguments per streamed fragment
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def micros(amount: Decimal) -> str:
    """Whole micros, cut toward zero: an integer string."""
    return str(int((amount / MICRO).to_integral_value(rounding=ROUND_DOWN)))


def usd(amount: Decimal) -> str:
    """USD cut toward zero to 2 decimals: `12.46`, `-0.50`."""
    cut = amount.quantize(CENT, rounding=ROUND_DOWN)
    return f"{cut if cut else CENT - CENT:.2f}"


def credits_headers(credits: Credits) -> dict[str, str]:
    """Version 1 of the credits headers: the snapshot the client seeds its notices from."""
    subscription = credits.grant + credits.rollover + min(credits.purchased, Decimal(0))
    purchased = max(credits.purchased, Decimal(0))
    headers = {
        "x-nous-credits-version": "1",
        "x-nous-credits-remaining-micros": micros(credits.total_usable),
        "x-nous-credits-remaining-usd": usd(credits.total_usable),
        "x-nous-credits-subscription-micros": micros(subscription),
        "x-nous-credits-subscription-usd": usd(subscription),
        "x-nous-credits-rollover-micros": micros(credits.rollover),
        "x-nous-credits-purchased-micros": micros(purchased),
        "x-nous-credits-purchased-usd": usd(purchased),
        "x-nous-credits-as-of-ms": str(int(credits.at * 1000)),
        "x-nous-credits-denominator-kind": "subscription_cap" if credits.paid_plan else "none",
        "x-nous-credits-paid-access": "true" if credits.allowed else "false",
    }
    if credits.paid_plan:
        headers["x-nous-credits-subscription-limit-micros"] = micros(credits.tier.credits)
        headers["x-nous-credits-subscription-limit-usd"] = usd(credits.tier.credits)
    if not credits.allowed:
        headers["x-nous-credits-disabled-reason"] = "out_of_credits"
    return headers


def rate_limit_headers(windows: tuple[Window, ...]) -> dict[str, str]:
    headers = {}
    for window in windows:
        name = window.bucket.name
        headers[f"x-ratelimit-limit-{name}"] = str(window.bucket.limit)
        headers[f"x-ratelimit-remaining-{name}"] = str(window.remaining)
        headers[f"x-ratelimit-reset-{name}"] = str(window.reset)
    return headers


def model_view(model: Model) -> dict[str, Any]:
    pricing = {"prompt": money(model.prompt_price), "completion": money(model.completion_price)}
    if model.cache_read_price is not None:
        pricing["input_cache_read"] = money(model.cache_read_price)
    if model.cache_write_price is not None:
        pricing["input_cache_write"] = money(model.cache_write_price)
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": "nous",
            "name": model.name, "context_length": model.context_length, "pricing": pricing}


def models_view(models: list[Model]) -> dict[str, Any]:
    return {"object": "list", "data": [model_view(model) for model in models]}


def usage_view(admission: Admission) -> dict[str, int]:
    record = admission.completion
    return {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens,
            "total_tokens": record.total_tokens}


def _envelope(admission: Admission, kind: str) -> dict[str, Any]:
    return {"id": admission.completion.id, "object": kind, "created": int(admission.completion.at),
            "model": admission.request.model}


def completion_view(admission: Admission) -> dict[str, Any]:
    """A whole (non-streamed) answer."""
    reply = admission.reply
    message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_calls else reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [{"id": call.id, "type": "function",
                                  "function": {"name": call.name, "arguments": call.arguments}}
                                 for call in reply.tool_calls]
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    return {**_envelope(admission, "chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": usage_view(admission)}


def _deltas(reply: Reply) -> Iterator[dict[str, Any]]:
    """The deltas of a streamed reply, role first: reasoning, content, then tool calls (the
    first fragment of a call names it, later ones carry pieces of its arguments)."""
    opening: dict[str, Any] = {"role": "assistant"}
    if reply.content is not None or reply.reasoning or not reply.tool_calls:
        yield {**opening, "content": ""}
        opening = {}
    for piece in _WORDS.findall(reply.reasoning or ""):
        yield {"reasoning_content": piece}
    for piece in _WORDS.findall(reply.content or ""):
        yield {"content": piece}
    for index, call in enumerate(reply.tool_calls):
        yield {**opening, "tool_calls": [{"index": index, "id": call.id, "type": "function",
                                          "function": {"name": call.name, "arguments": ""}}]}
        opening = {}
        for start in range(0, len(call.arguments), ARGUMENT_PIECE):
            piece = call.arguments[start:start + ARGUMENT_PIECE]
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def stream_events(admission: Admission) -> Iterator[bytes]:
    """`data: <chunk>` events: the deltas, a `finish_reason` chunk, the usage chunk (with
    `choices: []`) when asked for, and `data: [DONE]`."""
    envelope = _envelope(admission, "chat.completion.chunk")

    def event(choices: list, **extra: Any) -> bytes:
        return f"data: {json.dumps({**envelope, 'choices': choices, **extra}, separators=(',', ':'))}\n\n".encode()

    for delta in _deltas(admission.reply):
        yield event([{"index": 0, "delta": delta, "finish_reason": None}])
    yield event([{"index": 0, "delta": {}, "finish_reason": admission.reply.finish_reason}])
    if admission.request.include_usage:
        yield event([], usage=usage_view(admission))
    yield b"data: [DONE]\n\n"


def journal_detail(admission: Admission) -> dict[str, Any]:
    return {"model": admission.request.model, "usage": usage_view(admission),
            "costUsd": money(admission.completion.cost_micros * MICRO),
            "stream": admission.request.stream, "tags": admission.request.tags,
            "streamOptions": admission.request.stream_options}
