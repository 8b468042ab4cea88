"""Generated inputs, named after the contract's concepts so a shrunk counterexample reads
like a bug report: `amount_literals`, `idempotency_keys`, `clock_moves`, `malformed_bodies`...

Amounts are JSON number *literals* (text), exactly as they go on the wire.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

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

# -- idempotency and time --------------------------------------------------------------------
idempotency_keys = st.sampled_from(["key-a", "key-b", "key-c", "key-d", "key-e", "key-f", "key-g"])
# Seconds the portal clock moves: small steps, the rate window's edges, sometimes an hour.
clock_moves = st.one_of(st.integers(0, 120), st.sampled_from([1, 599, 1799, 3599, 3600, 3601]),
                        st.integers(0, 4000))
