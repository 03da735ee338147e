"""JSON in and out, with exact numbers: bodies parse to Decimal, Decimals leave as JSON numbers.

DynamoDB (through botocore) takes Decimal and refuses float, and float would round what the
client sent; the standard json module writes neither Decimal nor anything but float, so both
directions are handled here, once.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal, DecimalException
from typing import Any

from .errors import InvalidRequest


def _reject_constant(name: str) -> Any:
    raise InvalidRequest(f"Invalid JSON: {name} is not a number")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key is ambiguous (json keeps the last one silently, other parsers the first).
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidRequest(f"Invalid JSON: duplicate key {key!r}")
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(
    parse_float=Decimal,
    parse_int=Decimal,  # no int-digit limit to trip over, one number type downstream
    parse_constant=_reject_constant,
    object_pairs_hook=_unique_object,
)


def loads(text: str) -> Any:
    """Parse a request body; numbers become Decimal; anything not strict JSON is InvalidRequest."""
    try:
        return _DECODER.decode(text)
    except InvalidRequest:
        raise
    except RecursionError:
        # Python's own wording ("maximum recursion depth exceeded ...") says nothing to a client.
        raise InvalidRequest("Invalid JSON: arrays and objects are nested too deeply") from None
    except (ValueError, DecimalException) as exc:
        # JSONDecodeError is a ValueError; its message says where the text went wrong.
        raise InvalidRequest(f"Invalid JSON: {exc}") from None


def _number(value: Decimal) -> int | float | None:
    """value as int (integral) or float (when the float is exactly it); None when neither is."""
    if value == value.to_integral_value():
        return int(value)
    approximation = float(value)
    # A float is binary: 0.1 is fine (its shortest spelling is 0.1), 38 digits are not.
    return approximation if Decimal(repr(approximation)) == value else None


def dumps(value: Any) -> str:
    """Compact JSON of a response body: Decimals as plain numbers with exactly their digits."""
    inexact: list[str] = []
    marker = f"\x00{secrets.token_hex(8)}:"  # no string in value can hold it but by chance

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            number = _number(item)
            if number is not None:
                return number
            inexact.append(str(item))  # a finite Decimal's str is a valid JSON number
            return f"{marker}{len(inexact) - 1}"
        if isinstance(item, dict):
            return {key: convert(child) for key, child in item.items()}
        if isinstance(item, (list, tuple)):
            return [convert(child) for child in item]
        return item

    text = json.dumps(convert(value), separators=(",", ":"), allow_nan=False)
    if not inexact:
        return text
    # The markers left json.dumps as "\u0000<hex>:<n>" strings; put each number's digits there.
    quoted = re.escape(json.dumps(marker)[1:-1])
    return re.sub(f'"{quoted}([0-9]+)"', lambda found: inexact[int(found[1])], text)
