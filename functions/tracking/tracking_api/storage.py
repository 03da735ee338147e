"""The tracking table: store an update without ever overwriting one, read a shipment's updates.

Items are keyed by (tracking_id, timestamp in epoch ms). Two updates of one shipment in the
same millisecond would share a key, so every put is conditional on the key being free and,
when it is taken, moves to the next millisecond (a bounded number of times). In the normal
case that is exactly one PutItem per update.

DynamoDB can commit a PutItem and still answer with an error or time out; botocore then sends
it again, and the retry fails the condition on the item that very call wrote. Each put carries
a random `write_id` and asks for the blocking item back (`ReturnValuesOnConditionCheckFailure`),
so a put that meets its own write answers as the first attempt did instead of storing the
update a second time one millisecond later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import clock
from .errors import StorageError
from .response_size import fitting
from .validation import TrackingUpdate

if TYPE_CHECKING:
    from botocore.client import BaseClient

# Enough for a burst of same-millisecond updates of one shipment; past it something is wrong.
MAX_PUT_ATTEMPTS = 64
_KEY_IS_FREE = "attribute_not_exists(tracking_id)"
_KEY_ATTRIBUTES = ("tracking_id", "timestamp")  # the table's key: what a page resumes after
# Names one put_update call's write, so that call recognises it when a retry meets it. Internal:
# never part of an update a client reads back.
WRITE_ID_ATTRIBUTE = "write_id"
_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class UpdatesPage:
    """One page of a shipment's updates, newest first, and where the next page starts."""

    items: list[dict[str, Any]]
    last_key: dict[str, Any] | None


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def run_query(client: BaseClient, request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One Query: its items as Python values, and its raw LastEvaluatedKey (StorageError on failure)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.query(**request)
    except (ClientError, BotoCoreError) as exc:
        raise StorageError("Query failed") from exc
    deserialize = _deserializer().deserialize
    items = [{k: deserialize(v) for k, v in raw.items()} for raw in response.get("Items", [])]
    return items, response.get("LastEvaluatedKey")


def _iso_utc(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TrackingStore:
    """Reads and writes tracking updates in one DynamoDB table through a low-level client."""

    def __init__(self, client: BaseClient, table_name: str, environment: str = "") -> None:
        self._client = client
        self._table_name = table_name
        self._environment = environment

    def item_for(self, update: TrackingUpdate, timestamp: int) -> dict[str, Any]:
        """The table item (plain Python values) for an update stamped at timestamp."""
        item: dict[str, Any] = {
            "tracking_id": update.tracking_id,
            "timestamp": timestamp,
            "status": update.status,
            "location": {"lat": update.lat, "lng": update.lng},
            "created_at": _iso_utc(timestamp),
        }
        if self._environment:
            item["environment"] = self._environment
        if update.metadata is not None:
            item["metadata"] = update.metadata
        return item

    def put_update(self, update: TrackingUpdate) -> int:
        """Store update once under a free key; return its timestamp (epoch ms)."""
        from botocore.exceptions import BotoCoreError, ClientError

        serialize = _serializer().serialize
        write_id = {"S": uuid.uuid4().hex}
        timestamp = clock.now_ms()
        for _ in range(MAX_PUT_ATTEMPTS):
            item = {k: serialize(v) for k, v in self.item_for(update, timestamp).items()}
            item[WRITE_ID_ATTRIBUTE] = write_id
            try:
                self._client.put_item(
                    TableName=self._table_name,
                    Item=item,
                    ConditionExpression=_KEY_IS_FREE,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return timestamp
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                    raise StorageError("PutItem failed") from exc
                if exc.response.get("Item", {}).get(WRITE_ID_ATTRIBUTE) == write_id:
                    return timestamp  # botocore retried a put that had committed: it is stored
            except BotoCoreError as exc:
                raise StorageError("PutItem failed") from exc
            timestamp += 1  # that millisecond is taken by another update of this shipment
        raise StorageError(f"no free timestamp after {MAX_PUT_ATTEMPTS} attempts")

    def query_updates(
        self, tracking_id: str, limit: int, start_key: dict[str, Any] | None = None
    ) -> UpdatesPage:
        """Up to limit updates of tracking_id, newest first, starting after start_key."""
        serialize = _serializer().serialize
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "tracking_id = :tid",
            "ExpressionAttributeValues": {":tid": {"S": tracking_id}},
            "ScanIndexForward": False,
            # One more than the page: whether it exists says if there is a next page. DynamoDB
            # returns a LastEvaluatedKey whenever it stops at Limit, even at the very end, which
            # would hand out a token to an empty last page.
            "Limit": limit + 1,
        }
        if start_key is not None:
            request["ExclusiveStartKey"] = {k: serialize(v) for k, v in start_key.items()}
        items, last = run_query(self._client, request)
        for item in items:
            item.pop(WRITE_ID_ATTRIBUTE, None)
        page = items[: fitting(items[:limit])]  # at most limit, and within the response's bytes
        if len(page) < len(items):
            items = page
            last_key: dict[str, Any] | None = {key: items[-1][key] for key in _KEY_ATTRIBUTES}
        else:  # a short page ends the shipment, unless DynamoDB stopped at its 1 MB cap
            deserialize = _deserializer().deserialize
            last_key = None if last is None else {k: deserialize(v) for k, v in last.items()}
        return UpdatesPage(items=items, last_key=last_key)
