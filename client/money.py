"""Money on the client: Decimal end to end, never float.

The portal answers canonical decimal strings (`"142.5"`, `"100"`, `"0.01"`) and takes JSON
numbers, read from their literal text. These helpers parse the one, write the other, and
validate a custom amount exactly as the portal's gate 7 does, so the client can refuse a bad
amount before it spends an idempotency key or a rate-limit slot.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from client.errors import AmountOutOfBounds, ValidationFailed

CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


def parse_money(text: str) -> Decimal:
    """A canonical money string as a Decimal: no exponent, sign `-` only, no trailing zeros
    after the point, no leading zeros, never `-0`. Anything else is a ValueError."""
    if not isinstance(text, str) or not CANONICAL.fullmatch(text) or text == "-0":
        raise ValueError(f"not a canonical money string: {text!r}")
    return Decimal(text)


def to_json_number(amount: Decimal) -> str:
    """The JSON number literal for `amount`: the Decimal's own text (`25.50` stays `25.50`).

    `str(Decimal)` of a finite value is always a valid JSON number (`1E+1` included), so the
    server parses exactly the value the client holds. NaN and Infinity have no JSON form.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"not a finite Decimal: {amount!r}")
    return str(amount)


def dumps(value: Any) -> str:
    """JSON text for a request body whose numbers are Decimals (written by `to_json_number`)."""
    if isinstance(value, Decimal):
        return to_json_number(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, float):
        raise TypeError("send money as Decimal, not float")
    return json.dumps(value)


def decimal_places(amount: Decimal) -> int:
    """Significant decimal places: trailing zeros do not count (`25.50` has 1, `1E+3` has 0).
    Reads the digit tuple, so it needs no decimal context and is safe on huge exponents."""
    _, digits, exponent = amount.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    trailing_zeros = len(digits) - len(significant)
    return max(0, -(exponent + trailing_zeros))


def validate_amount(amount: Decimal, min_usd: Decimal, max_usd: Decimal) -> Decimal:
    """The portal's charge-amount rule, in the portal's order: a finite Decimal, > 0, at most
    2 significant decimal places (`validation_failed`), then `min_usd <= amount <= max_usd`
    (`amount_out_of_bounds`). Returns the amount unchanged."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationFailed(400, "validation_failed", "The amount must be a finite number.")
    if amount <= 0:
        raise ValidationFailed(400, "validation_failed", "The amount must be greater than 0.")
    if decimal_places(amount) > 2:
        raise ValidationFailed(400, "validation_failed", "The amount has more than 2 decimal places.")
    if not min_usd <= amount <= max_usd:
        raise AmountOutOfBounds(400, "amount_out_of_bounds",
                                f"The amount must be between {format_usd(min_usd)} and {format_usd(max_usd)}.")
    return amount


def format_usd(amount: Decimal) -> str:
    """Money for people: `$142.50`, `$1,000.00`, `-$5.00`; never rounded, so a sub-cent
    amount a person typed shows as typed (`$10.005`)."""
    sign = "-" if amount < 0 else ""
    places = max(2, decimal_places(amount))
    return f"{sign}${abs(amount):,.{places}f}"
