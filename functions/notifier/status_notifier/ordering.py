"""The projection's ordering rule: a shipment's current state only ever moves forward in time.

Streams deliver at least once and retries reorder, so the projection writes conditionally: the
write lands only when the stored state is absent or older. DynamoDB evaluates the condition
(atomic against concurrent writers); `classify` says what a refused write was, for the logs.
Timestamps of one shipment are unique (the API moves a same-millisecond update to the next
millisecond), so "newer" is strict and a redelivered update is a duplicate, never a winner.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

TIMESTAMP = "timestamp"
KEY = "tracking_id"
# Either no state yet, or a strictly older one.
CONDITION = f"attribute_not_exists({KEY}) OR #ts < :ts"


class Arrival(str, Enum):
    """What an update is, compared with the state already stored."""

    NEWER = "newer"  # it becomes the current state
    DUPLICATE = "duplicate"  # the same update again (a redelivery)
    STALE = "stale"  # older than the current state (late, reordered)


def classify(incoming: int, current: int | None) -> Arrival:
    """How an update stamped `incoming` compares with the stored state stamped `current`."""
    if current is None or incoming > current:
        return Arrival.NEWER
    if incoming == current:
        return Arrival.DUPLICATE
    return Arrival.STALE


def forward_only(timestamp_attribute: dict[str, Any]) -> dict[str, Any]:
    """PutItem arguments that let the write land only over an absent or older state."""
    return {
        "ConditionExpression": CONDITION,
        "ExpressionAttributeNames": {"#ts": TIMESTAMP},
        "ExpressionAttributeValues": {":ts": timestamp_attribute},
    }
