"""Which stream records call for a notification, and what they say, as plain Python values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

INSERT = "INSERT"


class MalformedRecord(ValueError):
    """A record that calls for a notification but lacks, or mistypes, a field it needs."""


@dataclass(frozen=True)
class Notification:
    """One shipment status change worth telling subscribers about."""

    tracking_id: str
    status: str
    timestamp: int
    # As stored: Decimal with every digit DynamoDB kept (a float would round 38 digits to 17).
    location: dict[str, Decimal]


def notification_for(record: DynamoDBRecord, notify_statuses: frozenset[str]) -> Notification | None:
    """The notification a stream record calls for, or None when it calls for none.

    Only new items (INSERT) whose status is one of `notify_statuses` call for one; updates and
    deletions of an item never do (the API only ever inserts). Raises MalformedRecord when such a
    record cannot be read.
    """
    if record.raw_event.get("eventName") != INSERT:
        return None
    image = _new_image(record)
    status = image.get("status")
    if not isinstance(status, str) or status not in notify_statuses:
        return None
    tracking_id = image.get("tracking_id")
    if not isinstance(tracking_id, str) or not tracking_id:
        raise MalformedRecord("tracking_id is missing or not a non-empty string")
    return Notification(
        tracking_id=tracking_id,
        status=status,
        timestamp=_epoch_millis(image.get("timestamp")),
        location=_location(image.get("location")),
    )


def new_image_json(record: DynamoDBRecord) -> Mapping[str, Any]:
    """The record's new image as DynamoDB JSON (typed attribute values), or MalformedRecord."""
    stream_record = record.raw_event.get("dynamodb")
    if not isinstance(stream_record, Mapping) or not isinstance(stream_record.get("NewImage"), Mapping):
        raise MalformedRecord("INSERT without a NewImage: the stream must include new images")
    return stream_record["NewImage"]


def _new_image(record: DynamoDBRecord) -> dict[str, Any]:
    """The record's new image as Python values (numbers as Decimal), or MalformedRecord."""
    new_image_json(record)
    try:
        # powertools' deserializer is boto3's TypeDeserializer ported without the boto3 import.
        return record.dynamodb.new_image  # type: ignore[union-attr]
    except (TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise MalformedRecord(f"NewImage is not valid DynamoDB JSON: {error}") from error


def _epoch_millis(value: Any) -> int:
    number = _number(value, "timestamp")
    if number != number.to_integral_value():
        raise MalformedRecord("timestamp is not an integer")
    return int(number)


def _location(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise MalformedRecord("location is missing or not a map")
    return {axis: _number(value.get(axis), f"location.{axis}") for axis in ("lat", "lng")}


def _number(value: Any, field: str) -> Decimal:
    """A DynamoDB number, exactly as stored."""
    # bool is an int subclass, and DynamoDB's BOOL must not pass for a number.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise MalformedRecord(f"{field} is missing or not a number")
    number = Decimal(value)
    if not number.is_finite():
        raise MalformedRecord(f"{field} is not a finite number")
    return number
