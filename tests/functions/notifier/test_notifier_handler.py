"""The notifier handler with real DynamoDB stream events against moto SNS, SQS and SSM."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from types import ModuleType

import botocore.handlers
import pytest
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from botocore.exceptions import EndpointConnectionError
from status_notifier import env, metric_names, publisher
from status_notifier.flags import REAL_TIME_NOTIFICATIONS
from status_notifier.publisher import WORST_CASE_PUBLISH_MS

from .conftest import (
    FLAGS_PARAM,
    ORIGINAL_FLAGS,
    NotifierStack,
    emitted_metric,
    load_event,
    notifier_context,
    sequence_numbers,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

NOTIFIED_IN_MIXED_BATCH = ["PKG-2002", "PKG-2004", "PKG-2007"]  # the delivered/failed INSERTs


def count_calls(monkeypatch: pytest.MonkeyPatch, event_name: str) -> list[dict]:
    """Record every call matching a botocore event in clients created from now on."""
    calls: list[dict] = []
    monkeypatch.setattr(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [*botocore.handlers.BUILTIN_HANDLERS, (event_name, lambda params, **_: calls.append(params))],
    )
    return calls


def test_publishes_only_delivered_and_failed_inserts(handler: ModuleType, stack: NotifierStack, capsys) -> None:
    # GIVEN a batch with INSERTs of every status, a MODIFY to delivered and a REMOVE of a failed one
    event = load_event("mixed_batch")

    # WHEN the stream delivers it
    response = handler.main(event, notifier_context())

    # THEN only the delivered and failed INSERTs are published, once each, and every record succeeds
    assert response == {"batchItemFailures": []}
    assert stack.published_ids() == NOTIFIED_IN_MIXED_BATCH
    assert emitted_metric(capsys.readouterr().out, metric_names.NOTIFICATION_PUBLISHED) == 3


def test_message_body_subject_and_attributes(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN one delivered INSERT with decimal coordinates and metadata
    event = load_event("insert_delivered")

    # WHEN it is handled
    handler.main(event, notifier_context())

    # THEN one message says what happened, in plain JSON, with a readable subject and filterable attributes
    (envelope,) = stack.published()
    assert envelope["TopicArn"] == stack.topic_arn
    body = json.loads(envelope["Message"])
    assert body == {
        "tracking_id": "PKG-1001",
        "status": "delivered",
        "timestamp": 1764321345123,
        "location": {"lat": 40.7128, "lng": -74.006},
    }
    assert type(body["timestamp"]) is int
    assert '"N"' not in envelope["Message"] and "Decimal" not in envelope["Message"]
    assert envelope["Subject"] == "[test] Shipment PKG-1001: delivered"
    assert envelope["MessageAttributes"]["status"] == {"Type": "String", "Value": "delivered"}
    assert re.fullmatch(r"[0-9a-f]{64}", envelope["MessageAttributes"]["notification_id"]["Value"])


def test_integer_coordinates_stay_integers(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN INSERTs whose coordinates are whole numbers in DynamoDB ("52", "-13", "-90", "180.0")
    event = load_event("mixed_batch")

    # WHEN they are published
    handler.main(event, notifier_context())

    # THEN the JSON carries integers, not floats, strings or DynamoDB-typed values
    bodies = {body["tracking_id"]: body for body in (json.loads(e["Message"]) for e in stack.published())}
    assert bodies["PKG-2004"]["location"] == {"lat": 52, "lng": -13}
    assert bodies["PKG-2007"]["location"] == {"lat": -90, "lng": 180}
    assert all(type(value) is int for value in bodies["PKG-2004"]["location"].values())
    assert type(bodies["PKG-2002"]["location"]["lat"]) is float


def test_message_keeps_every_digit_dynamodb_stored(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN a delivered INSERT whose coordinates have more digits than a float holds
    event = load_event("insert_delivered")
    location = event["Records"][0]["dynamodb"]["NewImage"]["location"]["M"]
    location["lat"] = {"N": "89.99999999999999999999999999999"}
    location["lng"] = {"N": "-0.12345678901234567890123"}

    # WHEN it is published
    handler.main(event, notifier_context())

    # THEN the message holds the stored digits (through float, lat would read 90.0)
    (envelope,) = stack.published()
    assert '"location":{"lat":89.99999999999999999999999999999,"lng":-0.12345678901234567890123}' in envelope["Message"]


def test_notify_statuses_override(handler: ModuleType, stack: NotifierStack, monkeypatch) -> None:
    # GIVEN the function configured to notify pending and in-transit shipments instead
    monkeypatch.setenv(env.NOTIFY_STATUSES, " pending, in_transit ,")

    # WHEN the mixed batch arrives
    response = handler.main(load_event("mixed_batch"), notifier_context())

    # THEN exactly those INSERTs are published, with their own subjects
    assert response == {"batchItemFailures": []}
    envelopes = stack.published()
    assert sorted(json.loads(e["Message"])["tracking_id"] for e in envelopes) == ["PKG-2001", "PKG-2003"]
    assert "[test] Shipment PKG-2003: in transit" in {e["Subject"] for e in envelopes}


@pytest.mark.parametrize(
    "flags",
    [
        {**ORIGINAL_FLAGS, REAL_TIME_NOTIFICATIONS: False},
        {"enhanced_tracking": True},  # flag absent
        {REAL_TIME_NOTIFICATIONS: "yes"},  # not a boolean
        ["not", "an", "object"],
    ],
    ids=["off", "absent", "not-boolean", "not-an-object"],
)
def test_flag_not_on_sends_nothing(handler: ModuleType, stack: NotifierStack, flags) -> None:
    # GIVEN real_time_notifications is not switched on
    stack.set_flags(flags)

    # WHEN notifiable records arrive
    response = handler.main(load_event("mixed_batch"), notifier_context())

    # THEN nothing is published and nothing is retried
    assert response == {"batchItemFailures": []}
    assert stack.published() == []


def test_flags_read_from_ssm_at_most_once_per_five_minutes(
    handler: ModuleType, stack: NotifierStack, monkeypatch
) -> None:
    # GIVEN every SSM GetParameter call counted, and a clock we can move
    calls = count_calls(monkeypatch, "before-call.ssm.GetParameter")
    real_datetime = datetime

    class Later(datetime):
        offset = timedelta(0)

        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + cls.offset

    monkeypatch.setattr(parameters_base, "datetime", Later)

    # WHEN three batches arrive within five minutes
    for _ in range(3):
        handler.main(load_event("mixed_batch"), notifier_context())
    within_five_minutes = len(calls)
    # AND the flag is switched off, then another batch arrives 301 seconds later
    stack.set_flags({REAL_TIME_NOTIFICATIONS: False})
    Later.offset = timedelta(seconds=301)
    handler.main(load_event("mixed_batch"), notifier_context())

    # THEN SSM was read once for the first three, once more after expiry, and the new value applies
    assert within_five_minutes == 1
    assert len(calls) == 2
    assert len(stack.published()) == 3 * len(NOTIFIED_IN_MIXED_BATCH)


def test_batch_needing_no_notification_reads_no_flag(handler: ModuleType, stack: NotifierStack, monkeypatch) -> None:
    # GIVEN a batch of only MODIFY and REMOVE records
    calls = count_calls(monkeypatch, "before-call.ssm.GetParameter")
    event = load_event("mixed_batch")
    event["Records"] = [r for r in event["Records"] if r["eventName"] != "INSERT"]

    # WHEN it is handled
    response = handler.main(event, notifier_context())

    # THEN it succeeds without asking SSM or SNS anything
    assert response == {"batchItemFailures": []}
    assert calls == []
    assert stack.published() == []


@pytest.mark.parametrize("breakage", ["deleted-topic", "wrong-arn"])
def test_failing_topic_reports_exactly_the_notifiable_records(
    handler: ModuleType, stack: NotifierStack, monkeypatch, capsys, breakage: str
) -> None:
    # GIVEN a topic that cannot be published to
    if breakage == "deleted-topic":
        stack.sns.delete_topic(TopicArn=stack.topic_arn)
    else:
        monkeypatch.setenv(env.TOPIC_ARN, stack.topic_arn.replace("notifications", "notificatons"))
    event = load_event("mixed_batch")

    # WHEN the mixed batch arrives
    response = handler.main(event, notifier_context())

    # THEN the records that needed a message are reported by sequence number; the others succeed
    assert response == {
        "batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event, *NOTIFIED_IN_MIXED_BATCH)]
    }
    assert emitted_metric(capsys.readouterr().out, metric_names.NOTIFICATION_FAILED) == 3


def test_one_failed_publish_fails_only_its_record(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN SNS unreachable only while publishing PKG-2004's message
    def unreachable_for_pkg_2004(params, **_):
        if "PKG-2004" in params["Message"]:
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com/")

    publisher.sns_client().meta.events.register("before-parameter-build.sns.Publish", unreachable_for_pkg_2004)
    event = load_event("mixed_batch")

    # WHEN the mixed batch arrives
    response = handler.main(event, notifier_context())

    # THEN only that record is retried, and the others were published
    assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event, "PKG-2004")]}
    assert stack.published_ids() == ["PKG-2002", "PKG-2007"]


def test_records_that_may_not_finish_before_the_timeout_are_retried(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN an invocation with less time left than a publish may take with its retries
    event = load_event("mixed_batch")
    nearly_timed_out = notifier_context(remaining_ms=WORST_CASE_PUBLISH_MS - 1)

    # WHEN the mixed batch arrives
    response = handler.main(event, nearly_timed_out)

    # THEN nothing is published and only the records that needed a message are reported
    assert response == {
        "batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event, *NOTIFIED_IN_MIXED_BATCH)]
    }
    assert stack.published() == []

    # AND with just enough time left, they all go out
    assert handler.main(event, notifier_context(remaining_ms=WORST_CASE_PUBLISH_MS)) == {"batchItemFailures": []}
    assert stack.published_ids() == NOTIFIED_IN_MIXED_BATCH


def test_unreadable_flags_fail_the_notifiable_records_after_one_read(
    handler: ModuleType, stack: NotifierStack, monkeypatch
) -> None:
    # GIVEN the flags parameter is gone
    stack.ssm.delete_parameter(Name=FLAGS_PARAM)
    calls = count_calls(monkeypatch, "before-call.ssm.GetParameter")
    event = load_event("mixed_batch")

    # WHEN the mixed batch arrives
    response = handler.main(event, notifier_context())

    # THEN the records that may need a message are retried, the others succeed, SSM was asked once
    assert response == {
        "batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event, *NOTIFIED_IN_MIXED_BATCH)]
    }
    assert len(calls) == 1
    assert stack.published() == []


def test_malformed_records_are_skipped_and_logged(handler: ModuleType, stack: NotifierStack, capsys, logs) -> None:
    # GIVEN delivered INSERTs lacking location, with a text timestamp, a boolean latitude, no tracking_id,
    # followed by a well-formed one
    event = load_event("malformed_batch")

    # WHEN the batch arrives
    response = handler.main(event, notifier_context())

    # THEN the batch does not fail, the good record is published, and each bad one is logged and counted
    assert response == {"batchItemFailures": []}
    assert stack.published_ids() == ["PKG-3005"]
    assert emitted_metric(capsys.readouterr().out, metric_names.NOTIFICATION_MALFORMED) == 4
    logged = [entry for entry in logs() if entry["message"] == "Malformed stream record skipped"]
    assert [entry["sequence_number"] for entry in logged] == sequence_numbers(
        event, "PKG-3001", "PKG-3002", "PKG-3003", "PKG-3004"
    )
    assert all(entry["level"] == "ERROR" and entry["reason"] for entry in logged)


def test_status_attribute_drives_subscription_filter_policy(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN a second subscriber that only wants failed deliveries (the docs' filter policy)
    failures_queue = stack.subscribe_queue(
        "failed-deliveries", {"FilterPolicy": json.dumps({"status": ["failed"]})}
    )

    # WHEN the mixed batch is published
    handler.main(load_event("mixed_batch"), notifier_context())

    # THEN that subscriber gets only the failed one, the unfiltered one gets all
    assert stack.published_ids(failures_queue) == ["PKG-2004"]
    assert stack.published_ids() == NOTIFIED_IN_MIXED_BATCH


def test_retried_record_carries_the_same_notification_id(handler: ModuleType, stack: NotifierStack) -> None:
    # GIVEN the stream delivers the same record twice (a retry after a partial failure)
    event = load_event("insert_delivered")

    # WHEN both deliveries are handled
    handler.main(event, notifier_context())
    handler.main(event, notifier_context())

    # THEN two messages go out (at-least-once) and subscribers can tell they are one notification
    first, second = stack.published()
    assert first["MessageId"] != second["MessageId"]
    assert first["MessageAttributes"]["notification_id"] == second["MessageAttributes"]["notification_id"]

