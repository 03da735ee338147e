"""tracking_api.jsonio: exact numbers in, plain numbers out, strict JSON only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tracking_api import jsonio
from tracking_api.errors import InvalidRequest


def test_numbers_parse_to_decimal():
    # GIVEN / WHEN a body with a float and an integer is parsed / THEN both are exact Decimals
    assert jsonio.loads('{"a": 40.7128, "b": 3}') == {"a": Decimal("40.7128"), "b": Decimal(3)}
    assert isinstance(jsonio.loads("0.1"), Decimal)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"a": NaN}'])
def test_non_finite_constants_are_refused(text):
    with pytest.raises(InvalidRequest, match="not a number"):
        jsonio.loads(text)


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", "[1,]", "tru", "[" * 50_000 + "]" * 50_000])
def test_invalid_json_is_invalid_request(text):
    with pytest.raises(InvalidRequest, match="Invalid JSON"):
        jsonio.loads(text)


def test_duplicate_keys_are_refused():
    with pytest.raises(InvalidRequest, match="duplicate key 'a'"):
        jsonio.loads('{"a": 1, "b": {"a": 2}, "a": 3}')
    assert jsonio.loads('{"a": {"a": 1}}') == {"a": {"a": Decimal(1)}}


def test_booleans_stay_booleans():
    assert jsonio.loads("[true, false]") == [True, False]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("40.7128"), "40.7128"),
        (Decimal("3"), "3"),
        (Decimal("3.0"), "3"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.5"), "-0.5"),
        (Decimal("123456789012345678901234567890"), "123456789012345678901234567890"),
        ({"a": [Decimal("1"), Decimal("2.5")], "b": True, "c": None}, '{"a":[1,2.5],"b":true,"c":null}'),
    ],
)
def test_dumps_writes_decimals_as_plain_numbers(value, text):
    assert jsonio.dumps(value) == text


def test_round_trip_of_a_body():
    text = '{"lat":-33.8688,"lng":151.2093,"n":7,"tags":["x"]}'
    assert jsonio.dumps(jsonio.loads(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "0.12345678901234567890123",  # more digits than a float holds
        "89.99999999999999999999999999999",  # a float would round it to 90.0
        "-1.000000000000000000000000000000000001",
    ],
)
def test_dumps_keeps_every_digit_a_float_would_round(text):
    # GIVEN numbers a float cannot hold, next to strings that look like the encoder's own markers
    value = {"n": [Decimal(text), Decimal("2.5")], "s": "\u0000" + "0" * 16 + ":0", "k": {"m": Decimal(text)}}
    # WHEN written
    written = jsonio.dumps(value)
    # THEN the JSON holds exactly the stored digits, and nothing else changed
    assert written == f'{{"n":[{text},2.5],"s":"\\u00000000000000000000:0","k":{{"m":{text}}}}}'
    assert jsonio.loads(written) == value


@pytest.mark.parametrize("text", ["[" * 50_000 + "]" * 50_000, '{"a":' * 20_000 + "1" + "}" * 20_000])
def test_deep_nesting_is_named_not_described_with_python_internals(text):
    # GIVEN JSON nested deeper than the parser recurses / WHEN parsed
    with pytest.raises(InvalidRequest) as refused:
        jsonio.loads(text)
    # THEN the client is told what is wrong, in its terms
    assert refused.value.message == "Invalid JSON: arrays and objects are nested too deeply"
    assert "recursion" not in refused.value.message
