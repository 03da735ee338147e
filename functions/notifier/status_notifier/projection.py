"""The current-state projection: every new tracking update becomes its shipment's listed state.

One item per shipment in the state table (key `tracking_id`), carrying the latest update's
status, timestamp, location and metadata exactly as the tracking table stored them (the stream
image's DynamoDB JSON is copied, so no number is re-encoded), plus its listing shard and rank.
The write is conditional (see ordering.py): late, duplicate and concurrent deliveries never move
a shipment back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import clients, ordering, sharding
from .records import MalformedRecord

# What the listing shows of the latest update; other attributes of the item stay behind.
PROJECTED = ("tracking_id", "status", "timestamp", "location", "metadata")
_CONDITION_FAILED = "ConditionalCheckFailedException"


def dynamodb_client() -> Any:
    """The DynamoDB client, created on first use (never at import)."""
    return clients.client("dynamodb")


def _text(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    text = value.get("S") if isinstance(value, Mapping) else None
    if not isinstance(text, str) or not text:
        raise MalformedRecord(f"{name} is missing or not a non-empty string")
    return text


def _timestamp(image: Mapping[str, Any]) -> int:
    value = image.get(ordering.TIMESTAMP)
    digits = value.get("N") if isinstance(value, Mapping) else None
    if not isinstance(digits, str) or not digits.isdigit():
        raise MalformedRecord("timestamp is missing or not a non-negative integer")
    return int(digits)


def state_item(image: Mapping[str, Any], shards: int) -> dict[str, Any]:
    """The state table item (DynamoDB JSON) for a tracking item's new image."""
    tracking_id = _text(image, "tracking_id")
    status = _text(image, "status")
    timestamp = _timestamp(image)
    item = {name: image[name] for name in PROJECTED if name in image}
    item[sharding.SHARD_ATTRIBUTE] = {"S": sharding.shard_key(status, sharding.shard_of(tracking_id, shards))}
    item[sharding.RANK_ATTRIBUTE] = {"N": str(sharding.rank(timestamp, tracking_id))}
    return item


@dataclass(frozen=True)
class Projection:
    """Writes shipments' current state into one state table, spread over `shards` keys per status."""

    table_name: str
    shards: int

    def apply(self, image: Mapping[str, Any], client: Any = None) -> ordering.Arrival:
        """Write the state for this new image unless a newer one is stored; say which it was.

        Raises MalformedRecord for an image it cannot read, botocore errors for a failed write.
        """
        from botocore.exceptions import ClientError

        item = state_item(image, self.shards)
        incoming = _timestamp(image)
        try:
            (client or dynamodb_client()).put_item(
                TableName=self.table_name,
                Item=item,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **ordering.forward_only(item[ordering.TIMESTAMP]),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            stored = error.response.get("Item", {}).get(ordering.TIMESTAMP, {}).get("N")
            # The condition failed, so a state at least this new is stored (an SDK that drops
            # the returned Item leaves only that to say).
            return ordering.classify(incoming, int(stored)) if stored else ordering.Arrival.STALE
        return ordering.Arrival.NEWER
