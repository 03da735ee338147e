"""JSON out with exact numbers: Decimals leave as plain JSON numbers with exactly their digits.

DynamoDB's numbers arrive as Decimal; the standard json module writes only floats, which round
(89.99999999999999999999999999999 becomes 90.0). The API's responses and the notifier's
messages are both written here. Each function's zip holds only its own folder, so this file has
two byte-identical copies: functions/tracking/tracking_api/jsonwriter.py is the one to edit,
functions/notifier/status_notifier/jsonwriter.py its copy (a test fails when they differ).
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any


def _number(value: Decimal) -> int | float | None:
    """value as int (integral) or float (when the float is exactly it); None when neither is."""
    if value == value.to_integral_value():
        return int(value)
    approximation = float(value)
    # A float is binary: 0.1 is fine (its shortest spelling is 0.1), 38 digits are not.
    return approximation if Decimal(repr(approximation)) == value else None


def dumps(value: Any, *, sort_keys: bool = False) -> str:
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

    text = json.dumps(convert(value), separators=(",", ":"), allow_nan=False, sort_keys=sort_keys)
    if not inexact:
        return text
    # The markers left json.dumps as "\u0000<hex>:<n>" strings; put each number's digits there.
    quoted = re.escape(json.dumps(marker)[1:-1])
    return re.sub(f'"{quoted}([0-9]+)"', lambda found: inexact[int(found[1])], text)
