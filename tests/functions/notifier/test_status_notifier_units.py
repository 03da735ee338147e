"""The notifier's domain modules on their own: settings, record reading, message building."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from decimal import Decimal
from types import ModuleType

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from hypothesis import given
from hypothesis import strategies as st
from status_notifier import env, message
from status_notifier.config import ConfigError, NotifierConfig, parse_statuses
from status_notifier.records import MalformedRecord, Notification, notification_for

from .conftest import NOTIFIER_DIR, load_event, notifier_context

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

NOTIFY = frozenset({"delivered", "failed"})
STATE_ENV = {env.STATE_TABLE_NAME: "state", env.LISTING_SHARDS: "16"}


def first_record(name: str) -> dict:
    return load_event(name)["Records"][0]


def test_config_defaults_and_parsing() -> None:
    # GIVEN only the required variables
    environ = {env.TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:t", env.FEATURE_FLAGS_PARAM: "/p", **STATE_ENV}

    # WHEN the settings are read
    config = NotifierConfig.from_environ(environ)

    # THEN NOTIFY_STATUSES defaults to delivered and failed, and a list is split and trimmed
    assert (config.state_table_name, config.listing_shards) == ("state", 16)
    assert (config.topic_arn, config.feature_flags_param) == ("arn:aws:sns:us-east-1:123456789012:t", "/p")
    # AND without ENVIRONMENT the subjects carry no environment prefix
    assert config.environment == ""
    assert config.notify_statuses == parse_statuses(env.DEFAULT_NOTIFY_STATUSES) == NOTIFY
    assert parse_statuses(" pending ,,in_transit ") == {"pending", "in_transit"}
    assert parse_statuses("") == frozenset()


@pytest.mark.parametrize("missing", [env.TOPIC_ARN, env.FEATURE_FLAGS_PARAM, env.STATE_TABLE_NAME, env.LISTING_SHARDS])
def test_config_names_a_missing_variable(missing: str) -> None:
    # GIVEN a required variable missing
    environ = {env.TOPIC_ARN: "arn", env.FEATURE_FLAGS_PARAM: "/p", **STATE_ENV}
    del environ[missing]

    # WHEN / THEN reading the settings fails, naming it
    with pytest.raises(ConfigError, match=missing):
        NotifierConfig.from_environ(environ)


def test_config_names_every_missing_variable_in_one_message() -> None:
    with pytest.raises(ConfigError, match="^missing environment variable\\(s\\): TOPIC_ARN, LISTING_SHARDS$"):
        NotifierConfig.from_environ({env.FEATURE_FLAGS_PARAM: "/p", env.STATE_TABLE_NAME: "state"})


def test_config_takes_a_single_shard() -> None:
    # GIVEN the smallest listing: one shard per status  THEN it is a valid setting
    environ = {env.TOPIC_ARN: "arn", env.FEATURE_FLAGS_PARAM: "/p", **STATE_ENV, env.LISTING_SHARDS: "1"}
    assert NotifierConfig.from_environ(environ).listing_shards == 1


@pytest.mark.parametrize("shards", ["0", "-1", "2.5", "two", "١"])
def test_config_refuses_a_shard_count_that_is_not_a_positive_integer(shards: str) -> None:
    environ = {env.TOPIC_ARN: "arn", env.FEATURE_FLAGS_PARAM: "/p", **STATE_ENV, env.LISTING_SHARDS: shards}
    with pytest.raises(ConfigError, match=f"LISTING_SHARDS must be a positive integer, not {shards!r}"):
        NotifierConfig.from_environ(environ)


def test_misconfigured_function_fails_the_invocation(handler: ModuleType, stack, monkeypatch) -> None:
    # GIVEN the function deployed without TOPIC_ARN
    monkeypatch.delenv(env.TOPIC_ARN)

    # WHEN / THEN the whole invocation fails, so the stream retries the batch instead of dropping it
    with pytest.raises(ConfigError):
        handler.main(load_event("insert_delivered"), notifier_context())


def test_notification_read_from_a_delivered_insert() -> None:
    # GIVEN a real stream record of a delivered shipment
    record = DynamoDBRecord(first_record("insert_delivered"))

    # WHEN it is read
    notification = notification_for(record, NOTIFY)

    # THEN the timestamp is an int, the coordinates exactly as stored
    assert notification == Notification(
        "PKG-1001", "delivered", 1764321345123, {"lat": Decimal("40.7128"), "lng": Decimal("-74.006")}
    )
    assert type(notification.timestamp) is int


@pytest.mark.parametrize(
    ("image_change", "reason"),
    [
        (lambda image: image.pop("location"), "location is missing or not a map"),
        (lambda image: image["location"]["M"].pop("lng"), "location.lng is missing or not a number"),
        (lambda image: image["location"]["M"].__setitem__("lat", {"N": "Infinity"}), "location.lat is not a finite number"),
        (lambda image: image.__setitem__("timestamp", {"N": "1764321345123.5"}), "timestamp is not an integer"),
        (lambda image: image.__setitem__("timestamp", {"BOOL": True}), "timestamp is missing or not a number"),
        (lambda image: image.__setitem__("tracking_id", {"S": ""}), "tracking_id is missing or not a non-empty string"),
        (lambda image: image.__setitem__("tracking_id", {"N": "7"}), "tracking_id is missing or not a non-empty string"),
        (lambda image: image.__setitem__("location", {"S": "somewhere"}), "location is missing or not a map"),
        (lambda image: image.__setitem__("location", {"Q": "not a DynamoDB type"}), "NewImage is not valid DynamoDB JSON: .+"),
    ],
)
def test_malformed_notifiable_record_is_reported(image_change, reason: str) -> None:
    # GIVEN a delivered INSERT with one field missing or mistyped
    raw = first_record("insert_delivered")
    image_change(raw["dynamodb"]["NewImage"])

    # WHEN / THEN reading it raises MalformedRecord saying exactly what is wrong
    with pytest.raises(MalformedRecord, match=f"^{reason}$"):
        notification_for(DynamoDBRecord(raw), NOTIFY)


def test_insert_without_new_image_is_malformed() -> None:
    # GIVEN an INSERT from a stream that carries keys only
    raw = first_record("insert_delivered")
    del raw["dynamodb"]["NewImage"]
    raw["dynamodb"]["StreamViewType"] = "KEYS_ONLY"

    # WHEN / THEN it cannot be told apart from a notifiable one, so it is malformed
    with pytest.raises(MalformedRecord, match="^INSERT without a NewImage: the stream must include new images$"):
        notification_for(DynamoDBRecord(raw), NOTIFY)


@pytest.mark.parametrize("status", [None, {"N": "1"}, {"S": "in_transit"}])
def test_insert_with_other_or_no_status_needs_no_notification(status) -> None:
    # GIVEN an INSERT whose status is absent, not a string, or not notifiable
    raw = first_record("insert_delivered")
    raw["dynamodb"]["NewImage"].pop("status")
    if status is not None:
        raw["dynamodb"]["NewImage"]["status"] = status

    # WHEN / THEN it calls for no notification
    assert notification_for(DynamoDBRecord(raw), NOTIFY) is None


def test_body_is_plain_json() -> None:
    # GIVEN a notification
    notification = Notification("PKG-1", "failed", 1700000000000, {"lat": 52, "lng": -0.5})

    # WHEN its body is built
    body = message.body(notification)

    # THEN it is the four fields, as plain JSON values
    assert json.loads(body) == {
        "tracking_id": "PKG-1",
        "status": "failed",
        "timestamp": 1700000000000,
        "location": {"lat": 52, "lng": -0.5},
    }


def test_body_keeps_every_digit_stored_as_the_api_writes_it() -> None:
    # GIVEN a coordinate a float would round to 90.0, and one a float holds exactly
    notification = Notification(
        "PKG-1", "delivered", 1700000000000,
        {"lng": Decimal("-0.50"), "lat": Decimal("89.99999999999999999999999999999")},
    )

    # WHEN its body is built
    body = message.body(notification)

    # THEN the text is the API's writer's: compact, keys sorted, every stored digit kept
    assert body == (
        '{"location":{"lat":89.99999999999999999999999999999,"lng":-0.5},"status":"delivered",'
        '"timestamp":1700000000000,"tracking_id":"PKG-1"}'
    )
    assert json.loads(body, parse_float=Decimal)["location"]["lat"] == Decimal("89.99999999999999999999999999999")


SUBJECT_CHARS = set(string.printable) - set("\t\n\r\x0b\x0c")


@given(
    tracking_id=st.text(min_size=1, max_size=100),
    status=st.sampled_from(["delivered", "failed", "in_transit", "pending"]) | st.text(min_size=1, max_size=150),
    environment=st.from_regex(r"^[a-z][a-z0-9-]{0,19}$", fullmatch=True) | st.just(""),
)
def test_subject_always_within_sns_limits(tracking_id: str, status: str, environment: str) -> None:
    # GIVEN any shipment id (unicode, control characters, up to 100 chars), status and environment
    notification = Notification(tracking_id, status, 1, {"lat": 0, "lng": 0})

    # WHEN the subject is built
    subject = message.subject(notification, environment)

    # THEN SNS accepts it: under 100 characters, printable ASCII, no line breaks, starts with a letter or
    # punctuation
    assert 0 < len(subject) < 100
    assert set(subject) <= SUBJECT_CHARS
    assert subject[0] in string.ascii_letters + string.punctuation


def test_subject_reads_well_and_shortens_long_ids() -> None:
    # GIVEN a short and a 100-character shipment id
    short = Notification("PKG-7", "failed", 1, {"lat": 0, "lng": 0})
    long = Notification("X" * 100, "delivered", 1, {"lat": 0, "lng": 0})

    # WHEN / THEN the subject names shipment and event, shortening the id rather than the event
    assert message.subject(short, "prod") == "[prod] Shipment PKG-7: delivery failed"
    assert message.subject(short) == "Shipment PKG-7: delivery failed"
    long_subject = message.subject(long, "prod")
    assert long_subject.endswith("...: delivered") and len(long_subject) == message.SUBJECT_MAX_CHARS


def test_notification_id_is_deterministic_and_per_item() -> None:
    # GIVEN two readings of one item and two other items
    one = Notification("PKG-1", "delivered", 1700000000000, {"lat": 1, "lng": 2})
    same_item = Notification("PKG-1", "delivered", 1700000000000, {"lat": 1.0, "lng": 2.0})
    other_time = Notification("PKG-1", "delivered", 1700000000001, {"lat": 1, "lng": 2})
    other_id = Notification("PKG-11", "delivered", 700000000000, {"lat": 1, "lng": 2})

    # WHEN / THEN the same item always has the same id, and different items different ids
    assert message.notification_id(one) == message.notification_id(same_item)
    assert len({message.notification_id(n) for n in (one, other_time, other_id)}) == 3
    assert message.attributes(one)["status"] == {"DataType": "String", "StringValue": "delivered"}


def test_importing_the_handler_calls_no_aws_api() -> None:
    # GIVEN a fresh interpreter where every botocore request would be counted
    script = f"""
import importlib.util, sys, botocore.handlers
sent = []
botocore.handlers.BUILTIN_HANDLERS.append(("before-send", lambda **kwargs: sent.append(kwargs)))
sys.path.insert(0, {str(NOTIFIER_DIR)!r})
spec = importlib.util.spec_from_file_location("notifier_import_probe", {str(NOTIFIER_DIR / "handler.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from status_notifier import clients
print(len(sent), len(clients._made))
"""
    # WHEN the handler module is imported as Lambda would
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        check=True,
    )

    # THEN nothing was sent and no client (nor session) exists yet
    assert result.stdout.split() == ["0", "0"]
