"""The wire format: JSON bodies decoded without floats, and money as canonical decimal strings.

Both the HTTP layer and the domain use these: the domain decides *when* a malformed body is
reported (gate 7 of a charge comes after the spending gates), the HTTP layer only reads bytes.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from mockportal.errors import InvalidRequest


class NonFiniteNumber:
    """Stands in for NaN/Infinity literals so they fail type checks instead of becoming floats."""

    def __init__(self, literal: str):
        self.literal = literal


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidRequest("validation_failed", f"Duplicate key {key!r} in JSON object.")
        result[key] = value
    return result


def decode_json(raw: bytes) -> Any:
    """Decode a JSON document with every number as an exact Decimal (never via float)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("invalid_json", "Request body is not valid UTF-8.") from None
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=NonFiniteNumber,
            object_pairs_hook=_reject_duplicate_keys,
        )
    except (ValueError, RecursionError):
        raise InvalidRequest("invalid_json", "Request body is not valid JSON.") from None
    # Only a `\uD800`-style escape can make a lone surrogate (UTF-8 cannot encode one), so
    # the walk runs only when the text holds such an escape.
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        raise InvalidRequest("invalid_json", "Request body is not valid JSON: a string holds a lone "
                             "UTF-16 surrogate (\\ud800-\\udfff), which is no character.")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _holds_lone_surrogate(value: Any) -> bool:
    """Whether any string in a decoded document, object keys included, holds a lone
    surrogate: text no store or encoder can take (a valid pair decodes to one character)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JsonBody:
    """A request body decoded on demand, so its errors surface at the gate that reads it."""

    def __init__(self, raw: bytes, content_type: str | None):
        self._raw = raw
        self._content_type = content_type

    def object(self, expected: str = "a JSON object") -> dict[str, Any]:
        """The body as a JSON object (its keys are the caller's to check)."""
        if self._content_type and self._content_type.split(";")[0].strip().lower() != "application/json":
            raise InvalidRequest("unsupported_media_type", "Send the body as application/json.", status=415)
        if not self._raw.strip():
            raise InvalidRequest("validation_failed", f"Body must be {expected}.")
        value = decode_json(self._raw)
        if not isinstance(value, dict):
            raise InvalidRequest("validation_failed", "Body must be a JSON object.")
        return value

    def object_with_exactly(self, keys: set[str]) -> dict[str, Any]:
        """The body as an object holding exactly `keys`; anything else is `validation_failed`."""
        value = self.object(f"a JSON object with {sorted(keys)}")
        unknown = set(value) - keys
        missing = keys - set(value)
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing {sorted(missing)}")
            if unknown:
                parts.append(f"unknown {sorted(unknown)}")
            raise InvalidRequest("validation_failed", f"Body keys: {', '.join(parts)}.")
        return value


def require_number(value: Any, field: str) -> Decimal:
    """A JSON number as a finite Decimal; bools, strings, null, NaN and Infinity are refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)  # a default supplied in code, not a decoded body
    if isinstance(value, bool) or not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidRequest("validation_failed", f"{field} must be a finite JSON number.")
    return value


def require_whole(value: Any, field: str, low: int, high: int) -> int:
    """A JSON number that is a whole number within [low, high]."""
    number = require_number(value, field)
    if number != number.to_integral_value() or not low <= number <= high:
        raise InvalidRequest("validation_failed", f"{field} must be a whole number from {low} to {high}.")
    return int(number)


_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """`0`-`9` only. `str.isdigit` is true of every Unicode digit (`²`, `٣`), which `int` then
    refuses or reads as another number."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def whole_number_text(text: str, field: str, *, at_most: int) -> int:
    """A whole number written in ASCII digits (a query parameter); any larger than `at_most`
    counts as `at_most` (without handing `int` thousands of digits, which it refuses)."""
    if not is_ascii_digits(text):
        raise InvalidRequest("validation_failed", f"{field} must be a whole number (digits 0-9).")
    digits = text.lstrip("0") or "0"
    return at_most if len(digits) > len(str(at_most)) else min(int(digits), at_most)


def require_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest("validation_failed", f"{field} must be true or false.")
    return value


def decimal_places(amount: Decimal) -> int:
    """Significant decimal places, ignoring trailing zeros (`25.50` has 1). Needs no context,
    so it is safe on `1e400` or a 10,000-digit literal."""
    _, digits, exponent = amount.as_tuple()
    digits = list(digits)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    if digits == [0]:
        return 0
    return max(0, -exponent)


def money(amount: Decimal) -> str:
    """Canonical money string: no exponent, no trailing zeros, never `-0` (`142.5`, `100`, `0.01`)."""
    if amount == 0:
        return "0"
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


MONEY_LIMIT = Decimal(10) ** 12
_DECIMAL_TEXT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def parse_money(value: Any, field: str) -> Decimal:
    """Money given to the control plane: a decimal string or a JSON number, below 1e12 in size."""
    if isinstance(value, str):
        # ASCII only: Decimal also reads `٣`, `５` and `1_000`.
        if not _DECIMAL_TEXT.fullmatch(value):
            raise InvalidRequest("validation_failed", f"{field} must be a decimal amount.")
        value = Decimal(value)
    amount = require_number(value, field)
    if abs(amount) >= MONEY_LIMIT:
        raise InvalidRequest("validation_failed", f"{field} must be smaller than 1e12 in size.")
    return amount


MICRO = Decimal("0.000001")


def json_number(amount: Decimal) -> float:
    """Money as a JSON number, only where the contract asks for one (section 9): the exact value
    to at most 6 decimal places. Amounts stay below 1e12, so 18 significant digits at most, and
    a float's shortest repr gives those digits back."""
    return float(amount.quantize(MICRO))
