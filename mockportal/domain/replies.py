"""Scripted inference replies: what the fake model says, queued per org, first in first out.

A reply is `{"content", "reasoning", "toolCalls": [{"name", "arguments", "id"}], "chunkDelayMs"}`
(every key optional); with the queue empty the reply is DEFAULT_CONTENT. `arguments` may be an
object (sent as its JSON text) or a string (sent as is, even if it is not valid JSON, so a
client's repair of broken arguments can be tested). `chunkDelayMs` makes a streamed reply wait
between its chunks, as a slow model does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mockportal.errors import InvalidRequest, NotFound
from mockportal.store import Store
from mockportal.wire import require_whole

DEFAULT_CONTENT = "Hello from mockportal."
REPLY_KEYS = {"content", "reasoning", "toolCalls", "chunkDelayMs"}
MAX_CHUNK_DELAY_MS = 10_000
MAX_QUEUED = 1000


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the JSON text the model produced


@dataclass(frozen=True)
class Reply:
    content: str | None
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    chunk_delay_ms: int

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    def metered_bytes(self) -> int:
        """What completion tokens are counted from: the UTF-8 bytes of the content, the reasoning,
        and each tool call's name and arguments."""
        parts = [self.content or "", self.reasoning or ""]
        for call in self.tool_calls:
            parts += [call.name, call.arguments]
        return sum(len(part.encode("utf-8")) for part in parts)

    def stored(self) -> dict[str, Any]:
        return {"content": self.content, "reasoning": self.reasoning, "chunkDelayMs": self.chunk_delay_ms,
                "toolCalls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls]}


DEFAULT_REPLY = Reply(DEFAULT_CONTENT, None, (), 0)


def _optional_text(spec: dict, key: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest("validation_failed", f"A reply's {key} is a string.")
    return value


def _tool_call(index: int, spec: Any) -> ToolCall:
    if not isinstance(spec, dict) or set(spec) - {"name", "arguments", "id"}:
        raise InvalidRequest("validation_failed", 'A tool call is {"name", "arguments", "id"}.')
    name, arguments, call_id = spec.get("name"), spec.get("arguments", {}), spec.get("id", f"call_{index + 1}")
    if not isinstance(name, str) or not name or not isinstance(call_id, str) or not call_id:
        raise InvalidRequest("validation_failed", "A tool call needs a non-empty name (and id, if given).")
    if not isinstance(arguments, str):
        try:
            arguments = json.dumps(arguments, default=str)
        except (TypeError, ValueError):
            raise InvalidRequest("validation_failed", "A tool call's arguments are an object or a string.") from None
    return ToolCall(call_id, name, arguments)


def reply(spec: Any) -> Reply:
    """A reply from its control-plane shape."""
    if not isinstance(spec, dict) or set(spec) - REPLY_KEYS:
        raise InvalidRequest("validation_failed", f"A reply is an object with some of {sorted(REPLY_KEYS)}.")
    calls = spec.get("toolCalls", [])
    if not isinstance(calls, list):
        raise InvalidRequest("validation_failed", "toolCalls is a list.")
    parsed = Reply(_optional_text(spec, "content"), _optional_text(spec, "reasoning"),
                   tuple(_tool_call(i, call) for i, call in enumerate(calls)),
                   require_whole(spec.get("chunkDelayMs", 0), "chunkDelayMs", 0, MAX_CHUNK_DELAY_MS))
    if parsed.content is None and not parsed.tool_calls:
        raise InvalidRequest("validation_failed", "A reply has content, tool calls, or both.")
    return parsed


def from_stored(stored: dict[str, Any]) -> Reply:
    return Reply(stored["content"], stored["reasoning"],
                 tuple(ToolCall(c["id"], c["name"], c["arguments"]) for c in stored["toolCalls"]),
                 stored["chunkDelayMs"])


class Replies:
    def __init__(self, store: Store):
        self._store = store

    def queue(self, org_id: str, specs: Any) -> int:
        """Queue replies for an org's next completions; returns how many are queued now."""
        if not isinstance(specs, list) or not specs:
            raise InvalidRequest("validation_failed", "replies is a non-empty list.")
        parsed = [reply(spec) for spec in specs]
        with self._store.transaction():
            if self._store.get_org(org_id) is None:
                raise NotFound("unknown_org", f"No org {org_id!r}.")
            if len(self._store.replies_of_org(org_id)) + len(parsed) > MAX_QUEUED:
                raise InvalidRequest("validation_failed", f"At most {MAX_QUEUED} replies can wait per org.")
            for item in parsed:
                self._store.push_reply(org_id, item.stored())
            return len(self._store.replies_of_org(org_id))

    def clear(self, org_id: str | None = None) -> None:
        with self._store.transaction():
            self._store.clear_replies(org_id)

    def waiting(self, org_id: str) -> list[Reply]:
        with self._store.transaction():
            return [from_stored(stored) for stored in self._store.replies_of_org(org_id)]

    def next(self, org_id: str) -> Reply:
        """The org's next scripted reply (used up), else the default."""
        with self._store.transaction():
            stored = self._store.pop_reply(org_id)
        return DEFAULT_REPLY if stored is None else from_stored(stored)
