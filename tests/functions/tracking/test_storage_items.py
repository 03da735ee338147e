"""tracking_api.storage's fields derived at write time, the clock that stamps them, and the exact errors it raises."""

from __future__ import annotations

import socket
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from tracking_api import clock, storage
from tracking_api.errors import StorageError
from tracking_api.validation import TrackingUpdate

UPDATE = TrackingUpdate("SHIP", "pending", Decimal("1.5"), Decimal(-2), None)


def test_created_at_is_the_timestamps_utc_instant_to_the_millisecond(stack) -> None:
    store = storage.TrackingStore(stack.dynamodb, stack.table_name)
    assert store.item_for(UPDATE, 1_700_000_000_123)["created_at"] == "2023-11-14T22:13:20.123Z"
    assert store.item_for(UPDATE, 1_700_000_000_009)["created_at"] == "2023-11-14T22:13:20.009Z"
    assert store.item_for(UPDATE, 0)["created_at"] == "1970-01-01T00:00:00.000Z"


def test_a_store_made_without_an_environment_writes_none(stack) -> None:
    # GIVEN a store made with the defaults  WHEN an update is stored
    storage.TrackingStore(stack.dynamodb, stack.table_name).put_update(UPDATE)
    # THEN the item carries no environment attribute, and no metadata it was not given (its
    # write id, a 32-digit hex string, is how a retried write recognises itself: issue 19)
    (item,) = stack.items()
    assert set(item) == {"tracking_id", "timestamp", "status", "location", "created_at", storage.WRITE_ID_ATTRIBUTE}
    assert len(item[storage.WRITE_ID_ATTRIBUTE]["S"]) == 32 and int(item[storage.WRITE_ID_ATTRIBUTE]["S"], 16) >= 0


def test_failed_writes_and_reads_say_which_call_failed(stack) -> None:
    # GIVEN the table is gone (DynamoDB answers with an error)
    store = storage.TrackingStore(stack.dynamodb, stack.table_name)
    stack.dynamodb.delete_table(TableName=stack.table_name)
    # THEN each failure names its call
    with pytest.raises(StorageError, match="^PutItem failed$"):
        store.put_update(UPDATE)
    with pytest.raises(StorageError, match="^Query failed$"):
        store.query_updates("SHIP", 10)


@pytest.fixture
def unreachable_dynamodb():
    """A DynamoDB client for a local port nothing listens on, without retries: every call fails in botocore."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )


def test_a_call_that_never_reaches_dynamodb_is_a_storage_error_too(unreachable_dynamodb) -> None:
    store = storage.TrackingStore(unreachable_dynamodb, "tracking-table-test")
    with pytest.raises(StorageError, match="^PutItem failed$"):
        store.put_update(UPDATE)
    with pytest.raises(StorageError, match="^Query failed$"):
        store.query_updates("SHIP", 10)


def test_after_every_attempt_the_error_says_how_many(stack, monkeypatch) -> None:
    # GIVEN a frozen clock and the next 64 milliseconds all taken
    monkeypatch.setattr(clock, "now_ms", lambda: 1_700_000_000_000)
    store = storage.TrackingStore(stack.dynamodb, stack.table_name)
    for _ in range(storage.MAX_PUT_ATTEMPTS):
        store.put_update(UPDATE)
    # WHEN one more arrives  THEN the bound is in the message
    with pytest.raises(StorageError, match="^no free timestamp after 64 attempts$"):
        store.put_update(UPDATE)


def test_the_clock_is_epoch_milliseconds_rounded_down(monkeypatch) -> None:
    # GIVEN the system clock at a known nanosecond  THEN updates are stamped with its millisecond
    monkeypatch.setattr(clock.time, "time_ns", lambda: 1_700_000_000_123_999_999)
    assert clock.now_ms() == 1_700_000_000_123
