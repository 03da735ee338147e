"""JSON in and out, with exact numbers: bodies parse to Decimal, Decimals leave as JSON numbers.

DynamoDB (through botocore) takes Decimal and refuses float, and float would round what the
client sent; the standard json module writes neither Decimal nor anything but float, so both
directions are handled here (the writing in jsonwriter, which the notifier shares).
"""

from __future__ import annotations

import json
from decimal import Decimal, DecimalException
from typing import Any

from .errors import InvalidRequest
from .jsonwriter import dumps

__all__ = ["dumps", "loads"]


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
