"""How much of Lambda's response limit a page of items may fill.

Lambda refuses a synchronous response over 6 MB, and API Gateway then answers 502 to a
request that was served. A page of 100 updates of 64 KiB is 6.4 MB, so pages are bounded by
bytes as well as by `limit`. The proxy response carries the body as a JSON string, so an item
counts at its size inside that string: its JSON (as the API writes it) JSON-encoded again,
quotes and backslashes escaped and anything outside ASCII as `\\u` escapes. That is an upper
bound of what the Lambda runtime sends, whatever its own JSON settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .jsonwriter import dumps

LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
# The items' share; the rest (a MiB) is headroom for the envelope: status code, headers, the
# other fields and a page token of a few hundred bytes.
PAGE_BUDGET_BYTES = 5 * 1024 * 1024


def in_response(item: Any) -> int:
    """The bytes item takes in the proxy response, with the comma that separates it from the next."""
    return len(json.dumps(dumps(item))) - 2 + 1  # without the outer quotes, with a comma


# Longer than any number DynamoDB stores as the writer spells it (9.99e125 is 126 digits).
_NUMBER_BOUND = "0" * 130


def upper_bound(items: Sequence[Any]) -> int:
    """A cheap upper bound of what items take in the response (one pass of the C JSON encoder).

    Their JSON is ASCII (non-ASCII and control characters as escapes) but for the numbers, each
    counted as longer than any; escaping ASCII JSON into a string at most doubles it.
    """
    return 2 * len(json.dumps(list(items), default=lambda _: _NUMBER_BOUND, separators=(",", ":")))


def fitting(items: Sequence[Any], budget: int = PAGE_BUDGET_BYTES) -> int:
    """How many of items, from the first, fit in budget bytes; never fewer than one of a non-empty page."""
    if upper_bound(items) <= budget:
        return len(items)  # nearly every page: far below the limit, measured in one pass
    used = 0
    for count, item in enumerate(items):
        used += in_response(item)
        if used > budget:
            # One item always goes: a page must move the walk on (an update is at most 64 KiB).
            return max(count, 1)
    return len(items)
