"""The current-state projection in the stream function, against moto DynamoDB: latest wins,
nothing regresses (late, duplicate, concurrent deliveries), failures are per record."""

from __future__ import annotations

import random
import threading
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from status_notifier import metric_names, projection, sharding
from status_notifier.ordering import Arrival

from ..tracking.stack import STATE_TABLE_NAME
from .conftest import NotifierStack, emitted_metric, notifier_context

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

T0 = 1_764_321_345_000


def insert(tracking_id: str, timestamp: int, status: str, sequence: int, **extra: Any) -> dict[str, Any]:
    """A stream INSERT record as the tracking table writes it (DynamoDB JSON new image)."""
    image = {
        "tracking_id": {"S": tracking_id},
        "timestamp": {"N": str(timestamp)},
        "status": {"S": status},
        "location": {"M": {"lat": {"N": "40.7128"}, "lng": {"N": "-74.006"}}},
        "created_at": {"S": "2025-11-28T09:15:45.000Z"},
        **extra,
    }
    return {
        "eventID": f"event-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": T0 // 1000,
            "Keys": {"tracking_id": image["tracking_id"], "timestamp": image["timestamp"]},
            "NewImage": image,
            "SequenceNumber": f"{100000000000000000000 + sequence}",
            "SizeBytes": 200,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/tracking-table-test/stream/2025-11-28T00:00:00.000",
    }


def deliver(handler: ModuleType, *records: dict[str, Any]) -> dict[str, Any]:
    return handler.main({"Records": list(records)}, notifier_context())


def current(stack: NotifierStack, tracking_id: str) -> tuple[str, int]:
    item = stack.states()[tracking_id]
    return item["status"]["S"], int(item["timestamp"]["N"])


def test_an_update_becomes_the_shipments_listed_state_exactly(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN an in-transit update with metadata
    record = insert("PKG-1", T0, "in_transit", 1, metadata={"M": {"weight_kg": {"N": "12.50"}}})

    # WHEN the stream delivers it
    assert deliver(handler, record) == {"batchItemFailures": []}

    # THEN the state item holds the update's fields exactly as stored (no number re-encoded),
    # its shard key and rank, and nothing of the tracking item beyond what the listing shows
    shard = sharding.shard_of("PKG-1", stack.shards)
    assert stack.states()["PKG-1"] == {
        "tracking_id": {"S": "PKG-1"},
        "timestamp": {"N": str(T0)},
        "status": {"S": "in_transit"},
        "location": {"M": {"lat": {"N": "40.7128"}, "lng": {"N": "-74.006"}}},
        "metadata": {"M": {"weight_kg": {"N": "12.50"}}},
        "listing_shard": {"S": f"in_transit#{shard}"},
        "listing_rank": {"N": str(sharding.rank(T0, "PKG-1"))},
    }


def test_a_late_older_update_never_moves_a_shipment_back(handler: ModuleType, stack: NotifierStack, capsys) -> None:
    # GIVEN a shipment delivered, whose earlier in-transit scan arrives afterwards (a retry reordered them)
    deliver(handler, insert("PKG-1", T0 + 5_000, "delivered", 2))
    capsys.readouterr()

    # WHEN the older update is delivered, alone and then in a batch after the newer one
    assert deliver(handler, insert("PKG-1", T0, "in_transit", 1)) == {"batchItemFailures": []}
    assert deliver(handler, insert("PKG-1", T0 + 5_000, "delivered", 2), insert("PKG-1", T0 + 1, "pending", 3)) == {
        "batchItemFailures": []
    }

    # THEN the shipment stays delivered, and the refused writes are counted, not failed
    assert current(stack, "PKG-1") == ("delivered", T0 + 5_000)
    out = capsys.readouterr().out
    assert emitted_metric(out, metric_names.STATE_UNCHANGED) == 3
    assert emitted_metric(out, metric_names.STATE_PROJECTED) == 0


def test_updates_in_one_batch_end_on_the_latest(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN one shipment's whole life in one batch, oldest first, and a second shipment's
    batch = [
        insert("PKG-1", T0, "pending", 1),
        insert("PKG-2", T0 + 1, "in_transit", 2),
        insert("PKG-1", T0 + 10, "in_transit", 3),
        insert("PKG-1", T0 + 20, "failed", 4),
    ]
    # WHEN it is delivered
    assert deliver(handler, *batch) == {"batchItemFailures": []}
    # THEN each shipment holds its latest update, one item each
    assert {tid: current(stack, tid) for tid in stack.states()} == {
        "PKG-1": ("failed", T0 + 20),
        "PKG-2": ("in_transit", T0 + 1),
    }


def test_a_redelivered_update_is_a_duplicate_not_a_change(stack: NotifierStack) -> None:
    # GIVEN the projection and one update already written
    writer = projection.Projection(STATE_TABLE_NAME, stack.shards)
    image = insert("PKG-1", T0, "in_transit", 1)["dynamodb"]["NewImage"]
    assert writer.apply(image) is Arrival.NEWER

    # WHEN the same update, then an older one, are applied again
    # THEN the first is a duplicate and the second stale; the state is unchanged
    assert writer.apply(image) is Arrival.DUPLICATE
    assert writer.apply(insert("PKG-1", T0 - 1, "pending", 2)["dynamodb"]["NewImage"]) is Arrival.STALE
    assert current(stack, "PKG-1") == ("in_transit", T0)


def test_concurrent_deliveries_in_any_order_settle_on_the_latest(stack: NotifierStack) -> None:
    # GIVEN 40 updates of each of 5 shipments, shuffled, each delivered twice (at least once)
    rng = random.Random(11)
    updates = [
        insert(f"PKG-{n}", T0 + step, rng.choice(["pending", "in_transit", "delivered", "failed"]), n * 100 + step)
        for n in range(5)
        for step in range(40)
    ]
    work = updates + updates
    rng.shuffle(work)
    writer = projection.Projection(STATE_TABLE_NAME, stack.shards)
    client = projection.dynamodb_client()

    # WHEN 8 threads write them at once
    def run(chunk: list[dict[str, Any]]) -> None:
        for record in chunk:
            writer.apply(record["dynamodb"]["NewImage"], client)

    threads = [threading.Thread(target=run, args=(work[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN every shipment holds exactly its latest update (status and shard key with it)
    latest = {f"PKG-{n}": updates[n * 40 + 39]["dynamodb"]["NewImage"] for n in range(5)}
    states = stack.states()
    assert set(states) == set(latest)
    for tracking_id, image in latest.items():
        assert states[tracking_id]["timestamp"] == image["timestamp"]
        assert states[tracking_id]["status"] == image["status"]
        expected_shard = sharding.shard_key(image["status"]["S"], sharding.shard_of(tracking_id, stack.shards))
        assert states[tracking_id]["listing_shard"] == {"S": expected_shard}


def test_a_failed_state_write_fails_only_its_record_and_it_is_not_notified(
    handler: ModuleType, stack: NotifierStack, capsys
) -> None:
    # GIVEN DynamoDB unreachable only while writing PKG-2's state
    def unreachable_for_pkg_2(params, **_):
        if params["Item"]["tracking_id"] == {"S": "PKG-2"}:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")

    projection.dynamodb_client().meta.events.register("before-parameter-build.dynamodb.PutItem", unreachable_for_pkg_2)
    batch = [insert("PKG-1", T0, "delivered", 1), insert("PKG-2", T0, "delivered", 2), insert("PKG-3", T0, "failed", 3)]

    # WHEN the batch arrives
    response = deliver(handler, *batch)

    # THEN only PKG-2 is reported for retry; it was neither projected nor notified, the others were both
    assert response == {"batchItemFailures": [{"itemIdentifier": batch[1]["dynamodb"]["SequenceNumber"]}]}
    assert sorted(stack.states()) == ["PKG-1", "PKG-3"]
    assert stack.published_ids() == ["PKG-1", "PKG-3"]
    assert emitted_metric(capsys.readouterr().out, metric_names.STATE_PROJECTION_FAILED) == 1


def test_a_retried_record_whose_state_landed_still_notifies(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN a delivered update whose state was written but whose notification failed (SNS was down)
    record = insert("PKG-1", T0, "delivered", 1)
    writer = projection.Projection(STATE_TABLE_NAME, stack.shards)
    assert writer.apply(record["dynamodb"]["NewImage"]) is Arrival.NEWER

    # WHEN the stream retries the record
    assert deliver(handler, record) == {"batchItemFailures": []}

    # THEN the state write is a no-op and the notification goes out once
    assert current(stack, "PKG-1") == ("delivered", T0)
    assert stack.published_ids() == ["PKG-1"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timestamp": None}, "timestamp is missing or not a non-negative integer"),
        ({"timestamp": {"N": "1.5"}}, "timestamp is missing or not a non-negative integer"),
        ({"timestamp": {"N": "-1"}}, "timestamp is missing or not a non-negative integer"),
        ({"status": {"N": "1"}}, "status is missing or not a non-empty string"),
        ({"tracking_id": {"S": ""}}, "tracking_id is missing or not a non-empty string"),
    ],
)
def test_an_unreadable_insert_is_skipped_not_retried(handler: ModuleType, stack: NotifierStack, logs, change, reason) -> None:
    # GIVEN an INSERT whose image lacks or mistypes a field the state needs
    record = insert("PKG-1", T0, "in_transit", 1)
    image = record["dynamodb"]["NewImage"]
    for name, value in change.items():
        if value is None:
            del image[name]
        else:
            image[name] = value

    # WHEN it is delivered / THEN it is not retried (retrying cannot fix it), nothing is written, and the reason is logged
    assert deliver(handler, record) == {"batchItemFailures": []}
    assert stack.states() == {}
    assert any(line.get("reason") == reason for line in logs())


@pytest.mark.parametrize(
    ("returned", "arrival"),
    [
        ({}, Arrival.STALE),
        ({"Item": {"tracking_id": {"S": "PKG-1"}}}, Arrival.STALE),
        ({"Item": {"timestamp": {"N": str(T0)}}}, Arrival.DUPLICATE),
        ({"Item": {"timestamp": {"N": str(T0 + 1)}}}, Arrival.STALE),
    ],
    ids=["without the stored item", "without its timestamp", "the same update", "a newer one"],
)
def test_a_refused_write_is_stale_unless_the_stored_item_says_otherwise(returned, arrival) -> None:
    # GIVEN DynamoDB refusing the write on its condition, with or without the stored item (an SDK
    # may drop what ReturnValuesOnConditionCheckFailure returned)
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("dynamodb")
    image = insert("PKG-1", T0, "in_transit", 1)["dynamodb"]["NewImage"]
    with Stubber(client) as stub:
        stub.add_client_error(
            "put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400, modeled_fields=returned
        )
        # WHEN the update is applied  THEN the refusal is classified from what came back
        assert projection.Projection(STATE_TABLE_NAME, 2).apply(image, client) is arrival
        stub.assert_no_pending_responses()
