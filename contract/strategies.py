"""Generated inputs, named after the contract's concepts so a shrunk counterexample reads
like a bug report: `amount_literals`, `idempotency_keys`, `clock_moves`, `malformed_bodies`...

Amounts are JSON number *literals* (text), exactly as they go on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from client.money import dumps
from contract.model import AutoReload, Outcome
from contract.world import FREE_MODEL, PRICES

# -- money -----------------------------------------------------------------------------------
# The edges of gate 7: zero and negative zero, a half cent either side of the bounds, exponent
# spellings, a literal a float would round, and numbers no float can hold.
EDGE_AMOUNT_LITERALS = (
    "0", "-0", "-0.0", "0.00", "0.005", "0.01", "1e-2", "9.99", "9.999", "10", "10.0", "10.00",
    "10.001", "10.005", "1e1", "1E1", "1.0e1", "100e-1", "25.5", "25.50", "2.55e1", "-25",
    "-10.00", "9999.99", "9999.995", "10000", "10000.00", "1e4", "10000.001", "10000.01",
    "10001", "0.1", "12.345", "12.340", "1e400", "-1e400", "1e-400", "1" + "0" * 400,
    "10." + "0" * 400 + "1", "99999999999999999999.99", "4503599627370497.5", "9007199254740993",
    "1000.0000000000001",
)


def _json_number(negative: bool, integer: int, fraction: str, exponent: int | None) -> str:
    text = ("-" if negative else "") + str(integer)
    if fraction:
        text += "." + fraction
    if exponent is not None:
        text += f"e{exponent}"
    return text


# Any JSON number literal, biased towards the charge bounds (10-10000) and 0-4 decimals.
amount_literals = st.one_of(
    st.sampled_from(EDGE_AMOUNT_LITERALS),
    st.builds(_json_number,
              negative=st.booleans(),
              integer=st.one_of(st.integers(0, 20), st.integers(9, 11), st.integers(9990, 10010),
                                st.integers(0, 20000)),
              fraction=st.text("0123456789", max_size=4),
              exponent=st.none() | st.none() | st.integers(-4, 4)),
)

# Charge amounts gate 7 accepts: 10-10000 with at most 2 decimals.
amounts = st.integers(1000, 1_000_000).map(lambda cents: Decimal(cents).scaleb(-2).normalize())
small_amounts = st.integers(1000, 60_000).map(lambda cents: Decimal(cents).scaleb(-2).normalize())


def spellings(amount: Decimal) -> st.SearchStrategy[str]:
    """Different JSON literals of one number (`25`, `25.0`, `25.00`, `2.5e1`): one amount to
    the portal, which compares amounts as numbers."""
    plain = format(amount, "f")
    sign, digits, exponent = amount.normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    scientific = f"{mantissa[0]}.{mantissa[1:] or '0'}e{len(mantissa) - 1 + exponent}"
    return st.sampled_from([plain, plain + ("0" if "." in plain else ".0"),
                            format(amount.quantize(Decimal("0.01")), "f"), scientific])


# Money the control plane may put in place (balances, usage): any sign, up to 4 decimals.
balances = st.integers(-1_000_000, 10_000_000).map(lambda x: Decimal(x).scaleb(-4))
usage_amounts = st.integers(1, 200_000).map(lambda x: Decimal(x).scaleb(-3))

# -- auto-reload and cards -------------------------------------------------------------------
def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


# Mostly rules auto-reload can run (enabled, 10-300 USD threshold, reload-to above it), also
# disabled ones and refused ones: under the minimum, not above the threshold, over the maximum.
_runnable_reload_rules = st.builds(lambda threshold, gap: AutoReload(True, threshold, threshold + gap),
                                   _cents(1000, 30_000), _cents(1000, 50_000))
auto_reload_rules = st.one_of(
    _runnable_reload_rules, _runnable_reload_rules,
    st.builds(AutoReload, st.just(False), _cents(0, 70_000), _cents(0, 70_000)),
    st.builds(AutoReload, st.just(True), _cents(0, 1500) | _cents(990_000, 1_100_000), _cents(0, 70_000)),
)
# How far below the reload threshold a debit leaves the balance.
reload_overshoots = st.integers(1, 20_000).map(lambda x: Decimal(x).scaleb(-3))
scripted_outcomes = st.one_of(
    st.builds(Outcome, st.just("settle"), st.none(), st.none() | st.integers(0, 10)),
    st.builds(Outcome, st.just("fail"), st.sampled_from(["card_declined", "authentication_required",
                                                         "payment_method_expired", "processing_error"]),
              st.none() | st.integers(0, 10)),
    st.builds(Outcome, st.just("pending")),
)
# Stripe test cards (4242 and 5454 succeed), or no card at all.
cards = st.sampled_from([None, "4242", "0002", "3184", "0069", "0119", "5454"])

# -- inference -------------------------------------------------------------------------------
TERMINAL_TOOL = {"type": "function", "function": {"name": "terminal", "description": "Run a shell command.",
                                                  "parameters": {"type": "object",
                                                                 "properties": {"command": {"type": "string"}}}}}
PAID_MODELS = sorted(model for model in PRICES if model != FREE_MODEL)


@dataclass(frozen=True)
class ChatTurn:
    """What an agent sends: a model, messages, streamed (with the usage chunk or not), tools."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    tools: list[dict[str, Any]] | None


# Message text of any Unicode (bytes, not characters, are what is metered), sometimes long.
message_texts = st.one_of(st.text(max_size=200), st.integers(0, 40_000).map(lambda n: "x" * n))


def chat_turns(models: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[ChatTurn]:
    """Chat completions, paid models three times as often as the free one."""
    models = models or st.sampled_from(PAID_MODELS * 3 + [FREE_MODEL])
    messages = st.lists(st.builds(lambda role, text: {"role": role, "content": text},
                                  st.sampled_from(["system", "user"]), message_texts), min_size=1, max_size=3)
    return st.builds(lambda model, msgs, stream, usage, tools: ChatTurn(model, msgs, stream, stream and usage, tools),
                     models, messages, st.booleans(), st.booleans(), st.none() | st.just([TERMINAL_TOOL]))


reply_texts = st.text(max_size=60) | st.sampled_from(["Hello", "Refactor billing view", "", "  ", "Done.\n"])
tool_arguments = st.one_of(
    st.dictionaries(st.sampled_from(["command", "path", "query", "n"]), st.text(max_size=20) | st.integers(),
                    max_size=3).map(lambda args: json.dumps(args, ensure_ascii=False)),
    st.text(max_size=40),  # not JSON: sent as is, the client repairs or drops it
)
tool_calls = st.lists(st.builds(lambda name, arguments: {"name": name, "arguments": arguments},
                                st.sampled_from(["terminal", "read_file", "web_search", "patch"]), tool_arguments),
                      max_size=2)


def _reply(content: str | None, reasoning: str | None, calls: list[dict]) -> dict[str, Any]:
    reply: dict[str, Any] = {"toolCalls": calls} if calls else {}
    if content is not None or not calls:
        reply["content"] = content or ""
    if reasoning is not None:
        reply["reasoning"] = reasoning
    return reply


# What the fake model answers next (`Control.replies`): text, reasoning, tool calls.
scripted_replies = st.builds(_reply, st.none() | reply_texts, st.none() | reply_texts, tool_calls)

# -- idempotency and time --------------------------------------------------------------------
idempotency_keys = st.sampled_from(["key-a", "key-b", "key-c", "key-d", "key-e", "key-f", "key-g"])
# Seconds the portal clock moves: small steps, the rate window's edges, sometimes an hour.
clock_moves = st.one_of(st.integers(0, 120), st.sampled_from([1, 599, 1799, 3599, 3600, 3601]),
                        st.integers(0, 4000))

# -- malformed requests ----------------------------------------------------------------------
CHARGE_KEYS = {"amountUsd"}
AUTO_RELOAD_KEYS = {"enabled", "threshold", "topUpAmount"}
OVERSIZE = 64 * 1024 + 1

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def _not_a_valid_body(value) -> bool:
    return not (isinstance(value, dict) and set(value) in (CHARGE_KEYS, AUTO_RELOAD_KEYS))


# Bodies neither a charge nor an auto-reload update can accept: broken JSON, bad UTF-8, NaN,
# numbers no double holds, wrong types, missing/unknown/duplicate keys, and > 64 KiB.
malformed_bodies = st.one_of(
    st.sampled_from([
        b"", b"   ", b"\x00", b"\xff\xfe\x00", b'{"amountUsd": 1\xff}', b"\xc3\x28", b"{", b"}",
        b'{"amountUsd": NaN}', b'{"amountUsd": Infinity}', b'{"amountUsd": -Infinity}',
        b'{"amountUsd": 1e400}', b'{"amountUsd": -1e400}', b'{"amountUsd": 1e-400}',
        b'{"amountUsd": 1e999999999999}', b'{"amountUsd": "25"}', b'{"amountUsd": true}',
        b'{"amountUsd": null}', b'{"amountUsd": [25]}', b'{"amountUsd": {"value": 25}}',
        b'{"amountUsd": 25, "currency": "usd"}', b'{"amountUsd": 25, "amountUsd": 25}',
        b'{"amountUSD": 25}', b"{}", b"[]", b'"amountUsd"', b"25", b"null",
        b'{"amountUsd": 25}{"amountUsd": 25}', b"[" * 50_000 + b"]" * 50_000,
        b'{"amountUsd": 0x19}', b'{"amountUsd": +25}', b'{"amountUsd": .5}', b'{"amountUsd": 025}',
        b'{"enabled": "yes", "threshold": 20, "topUpAmount": 100}',
        b'{"enabled": true, "threshold": 100, "topUpAmount": 20}',
        b'{"enabled": true, "threshold": 5, "topUpAmount": 100}',
        b'{"enabled": true, "threshold": 20.001, "topUpAmount": 100}',
        b'{"enabled": false, "threshold": -1, "topUpAmount": 100}',
        b'{"enabled": true, "threshold": NaN, "topUpAmount": 100}',
        b'{"enabled": true, "threshold": 20, "topUpAmount": 100, "card": null}',
        b'{"amountUsd": 25, "pad": "' + b"x" * OVERSIZE + b'"}',
    ]),
    st.binary(max_size=64),
    json_values.filter(_not_a_valid_body).map(lambda v: dumps(v).encode()),  # client's float-free encoder
    st.integers(OVERSIZE, 4 * OVERSIZE).map(lambda n: b'{"amountUsd": 1' + b"0" * n + b"}"),
    st.integers(500, 30_000).map(lambda depth: b"[" * depth + b"]" * depth),  # deeper than any parser's stack
)

# Charge ids a client could put in the path, raw (sent byte for byte, not normalised).
odd_charge_ids = st.one_of(
    st.sampled_from(["../x", "..", ".", "../../state", "%2F", "%2Fx", "a%2Fb", "%2e%2e%2fstate",
                     "ch_" + "x" * 10_000, "%00", "%ff%fe", "ch_%20", "ch_x?status=settled",
                     "ch_x#frag", "ch_x/", "ch_x;y", "%C3%BC", "ch_x%0d%0aX-Injected:%201", "x" * 10_000]),
    st.text(st.characters(codec="ascii", exclude_characters="#?\x00\r\n"), min_size=1, max_size=40)
      .map(lambda s: "".join(c if c.isalnum() or c in "._-/" else f"%{ord(c):02X}" for c in s)),
)

# Header values a client can send: latin-1, no line breaks, no leading blank (HTTP strips it).
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                        max_size=300).map(str.lstrip)
odd_idempotency_keys = st.one_of(st.none(), st.just(""), st.just("k" * 256),
                                 st.just("k" * 10_000), st.just("caf\xe9"), header_values)
content_types = st.sampled_from([None, "application/json", "application/json; charset=latin-1",
                                 "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/json-patch+json",
                                 "application/JSON", "", "*/*", "application/xml"])
http_methods = st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO"])
