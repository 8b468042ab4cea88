"""Money on the wire: canonical strings out, exact Decimals in."""

from decimal import Decimal

import pytest

from mockportal.errors import InvalidRequest
from mockportal.wire import JsonBody, decimal_places, decode_json, money, require_number


@pytest.mark.parametrize("amount, text", [
    (Decimal("142.50"), "142.5"), (Decimal("100"), "100"), (Decimal("1E+2"), "100"),
    (Decimal("0.01"), "0.01"), (Decimal("-0"), "0"), (Decimal("0.000"), "0"),
    (Decimal("25.0"), "25"), (Decimal("1E+20"), "100000000000000000000"),
])
def test_money_is_canonical(amount, text):
    assert money(amount) == text


@pytest.mark.parametrize("literal, places", [
    ("25", 0), ("25.5", 1), ("25.50", 1), ("25.55", 2), ("0.005", 3), ("1e-2", 2),
    ("1e400", 0), ("100.100", 1), ("0.000", 0),
])
def test_decimal_places_ignore_trailing_zeros(literal, places):
    assert decimal_places(Decimal(literal)) == places


def test_numbers_decode_as_exact_decimals_never_floats():
    assert decode_json(b'{"a": 0.1, "b": 3}') == {"a": Decimal("0.1"), "b": Decimal("3")}
    assert isinstance(decode_json(b"0.1"), Decimal)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_literals_fail_as_numbers(literal):
    with pytest.raises(InvalidRequest) as caught:
        require_number(decode_json(literal), "amountUsd")
    assert caught.value.code == "validation_failed"


@pytest.mark.parametrize("raw, code", [
    (b"\xff\xfe", "invalid_json"), (b"{", "invalid_json"), (b"[" * 100_000, "invalid_json"),
    (b'{"amountUsd": 1, "amountUsd": 2}', "validation_failed"),
])
def test_undecodable_bodies_have_codes(raw, code):
    with pytest.raises(InvalidRequest) as caught:
        JsonBody(raw, "application/json").object_with_exactly({"amountUsd"})
    assert caught.value.code == code


def test_body_must_have_exactly_the_keys():
    body = JsonBody(b'{"amountUsd": 1, "currency": "usd"}', "application/json")
    with pytest.raises(InvalidRequest, match="unknown"):
        body.object_with_exactly({"amountUsd"})


def test_non_json_content_type_is_415():
    with pytest.raises(InvalidRequest) as caught:
        JsonBody(b'{"amountUsd": 1}', "text/plain").object_with_exactly({"amountUsd"})
    assert caught.value.status == 415
