"""Money helpers: canonical parsing, exact JSON numbers, and the portal's amount rule."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from client.errors import AmountOutOfBounds, ValidationFailed
from client.money import dumps, format_usd, parse_money, to_json_number, validate_amount

LOW, HIGH = Decimal("10"), Decimal("10000")


@pytest.mark.parametrize("text", ["142.5", "100", "0.01", "0", "-5.25", "10000", "1234567.89"])
def test_parse_money_accepts_canonical_strings(text):
    assert parse_money(text) == Decimal(text)
    assert str(parse_money(text)) == text


@pytest.mark.parametrize("text", ["142.50", "100.0", "1e3", "1E+3", "01", ".5", "5.", "+5", "-0", "",
                                  " 5", "NaN", "Infinity", "1,000", "$5"])
def test_parse_money_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_money(text)


def test_parse_money_refuses_non_strings():
    with pytest.raises(ValueError):
        parse_money(142.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount,literal", [("25.50", "25.50"), ("0.1", "0.1"), ("10", "10"),
                                            ("1E+1", "1E+1"), ("100.00", "100.00")])
def test_to_json_number_writes_the_decimal_literal(amount, literal):
    assert to_json_number(Decimal(amount)) == literal
    assert json.loads(literal, parse_float=Decimal, parse_int=Decimal) == Decimal(amount)


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), 25.5, 25])
def test_to_json_number_refuses_non_finite_or_non_decimal(amount):
    with pytest.raises(ValueError):
        to_json_number(amount)


def test_dumps_writes_bodies_without_float_artefacts():
    body = {"enabled": True, "threshold": Decimal("0.1"), "topUpAmount": Decimal("1234567.89"), "note": "a\"b"}
    text = dumps(body)
    assert text == '{"enabled": true, "threshold": 0.1, "topUpAmount": 1234567.89, "note": "a\\"b"}'
    assert json.loads(text, parse_float=Decimal)["threshold"] == Decimal("0.1")


def test_dumps_refuses_floats():
    with pytest.raises(TypeError):
        dumps({"amountUsd": 0.1})


@pytest.mark.parametrize("amount", ["10", "10000", "25", "25.5", "25.50", "25.500", "42.42", "1E+3", "9999.99"])
def test_validate_amount_accepts(amount):
    assert validate_amount(Decimal(amount), LOW, HIGH) == Decimal(amount)


@pytest.mark.parametrize("amount,code", [
    ("0", "validation_failed"), ("-25", "validation_failed"), ("0.00", "validation_failed"),
    ("25.001", "validation_failed"), ("25.015", "validation_failed"),
    ("5.001", "validation_failed"),  # decimals are checked before bounds, as the portal does
    ("NaN", "validation_failed"), ("Infinity", "validation_failed"), ("-Infinity", "validation_failed"),
    ("9.99", "amount_out_of_bounds"), ("10000.01", "amount_out_of_bounds"), ("1E+400", "amount_out_of_bounds"),
    ("0.01", "amount_out_of_bounds"),
])
def test_validate_amount_refuses_with_the_portals_code(amount, code):
    expected = AmountOutOfBounds if code == "amount_out_of_bounds" else ValidationFailed
    with pytest.raises(expected) as caught:
        validate_amount(Decimal(amount), LOW, HIGH)
    assert caught.value.error == code
    assert caught.value.status == 400


@pytest.mark.parametrize("amount", [True, 25, 25.0, "25"])
def test_validate_amount_refuses_non_decimals(amount):
    with pytest.raises(ValidationFailed) as caught:
        validate_amount(amount, LOW, HIGH)  # type: ignore[arg-type]
    assert caught.value.error == "validation_failed"


@pytest.mark.parametrize("amount", ["0", "-25", "25.001", "5.001", "9.99", "10000.01", "1E+400"])
def test_validate_amount_agrees_with_the_portal(amount, control, login):
    """The client's verdict and the portal's answer to the same JSON number carry one code."""
    api = login()
    with pytest.raises((ValidationFailed, AmountOutOfBounds)) as local:
        validate_amount(Decimal(amount), LOW, HIGH)
    answer = requests.post(control.url + "/api/billing/charge", data=dumps({"amountUsd": Decimal(amount)}),
                           headers={"Authorization": "Bearer " + api.session.credentials.access_token,
                                    "Idempotency-Key": "k", "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["error"]) == (400, local.value.error)


@pytest.mark.parametrize("amount,text", [("142.5", "$142.50"), ("0", "$0.00"), ("1000", "$1,000.00"),
                                         ("-5", "-$5.00"), ("0.01", "$0.01"), ("10.005", "$10.005"),
                                         ("25.50", "$25.50"), ("1E+3", "$1,000.00")])
def test_format_usd(amount, text):
    assert format_usd(Decimal(amount)) == text
