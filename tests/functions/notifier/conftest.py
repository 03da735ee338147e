"""Fixtures for the notifier: its handler loaded by path, stream events, and moto SNS/SQS/SSM."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ..lambda_runtime import FakeLambdaContext, load_handler
from ..tracking.stack import STATE_TABLE_NAME, create_table_args, definitions

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTIFIER_DIR = REPO_ROOT / "functions" / "notifier"
EVENTS_DIR = Path(__file__).resolve().parent / "events"

# As in the Lambda, where the zip's root is on the path: `import status_notifier` resolves.
if str(NOTIFIER_DIR) not in sys.path:
    sys.path.insert(0, str(NOTIFIER_DIR))

from aws_lambda_powertools.utilities import parameters  # noqa: E402
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS  # noqa: E402
from status_notifier import clients, env  # noqa: E402
from status_notifier.flags import REAL_TIME_NOTIFICATIONS  # noqa: E402

FLAGS_PARAM = "/logistics/features/test/flags"
LISTING_SHARDS = 2
ORIGINAL_FLAGS = {"enhanced_tracking": True, "batch_processing": False, REAL_TIME_NOTIFICATIONS: True}


def notifier_context(**overrides: Any) -> FakeLambdaContext:
    """A Lambda context for the notifier function."""
    return FakeLambdaContext(function_name="tracking-notifier-test", memory_limit_in_mb=256, **overrides)


def load_event(name: str) -> dict[str, Any]:
    """A DynamoDB stream event from tests/functions/notifier/events/NAME.json."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def sequence_numbers(event: dict[str, Any], *tracking_ids: str) -> list[str]:
    """The SequenceNumbers of the event's records for these shipments, in stream order."""
    return [
        record["dynamodb"]["SequenceNumber"]
        for record in event["Records"]
        if record["dynamodb"]["Keys"]["tracking_id"]["S"] in tracking_ids
    ]


@pytest.fixture(scope="session")
def handler() -> ModuleType:
    """functions/notifier/handler.py, loaded by path under a name no other test uses."""
    return load_handler("notifier", "notifier_lambda_handler")


def _reset_lazy_clients() -> None:
    parameters.clear_caches()
    DEFAULT_PROVIDERS.clear()
    clients.reset()


@dataclass
class NotifierStack:
    """The notifier's AWS surroundings in moto: topic, a subscribed queue, the flags parameter, the state table."""

    topic_arn: str
    queue_url: str
    sns: Any = field(repr=False)
    sqs: Any = field(repr=False)
    ssm: Any = field(repr=False)
    dynamodb: Any = field(repr=False, default=None)
    shards: int = LISTING_SHARDS

    def states(self) -> dict[str, dict[str, Any]]:
        """The state table's items by tracking_id (DynamoDB JSON)."""
        items = self.dynamodb.scan(TableName=STATE_TABLE_NAME, ConsistentRead=True)["Items"]
        return {item["tracking_id"]["S"]: item for item in items}

    def published(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """The SNS envelopes that reached the queue (RawMessageDelivery off), oldest first."""
        envelopes = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url or self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return envelopes
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url or self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def published_ids(self, queue_url: str | None = None) -> list[str]:
        """tracking_id of every published message."""
        return sorted(json.loads(envelope["Message"])["tracking_id"] for envelope in self.published(queue_url))

    def subscribe_queue(self, name: str, subscription_attributes: dict[str, str] | None = None) -> str:
        """A new SQS queue subscribed to the topic; returns its URL."""
        queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=subscription_attributes or {}
        )
        return queue_url

    def set_flags(self, flags: Any) -> None:
        """Overwrite the feature-flags parameter with this JSON value."""
        self.ssm.put_parameter(Name=FLAGS_PARAM, Type="String", Value=json.dumps(flags), Overwrite=True)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifierStack]:
    """moto SNS, SQS and SSM as the template sets them up, and the notifier's environment."""
    with mock_aws():
        sns, sqs, ssm = boto3.client("sns"), boto3.client("sqs"), boto3.client("ssm")
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**create_table_args(definitions().state_table, STATE_TABLE_NAME))
        topic_arn = sns.create_topic(Name="tracking-status-notifications-test")["TopicArn"]
        notifier_stack = NotifierStack(
            topic_arn=topic_arn, queue_url="", sns=sns, sqs=sqs, ssm=ssm, dynamodb=dynamodb
        )
        notifier_stack.queue_url = notifier_stack.subscribe_queue("notifications-reader")
        notifier_stack.set_flags(ORIGINAL_FLAGS)
        monkeypatch.setenv(env.TOPIC_ARN, topic_arn)
        monkeypatch.setenv(env.FEATURE_FLAGS_PARAM, FLAGS_PARAM)
        monkeypatch.setenv(env.ENVIRONMENT, "test")
        monkeypatch.setenv(env.STATE_TABLE_NAME, STATE_TABLE_NAME)
        monkeypatch.setenv(env.LISTING_SHARDS, str(LISTING_SHARDS))
        monkeypatch.delenv(env.NOTIFY_STATUSES, raising=False)
        _reset_lazy_clients()
        yield notifier_stack
    _reset_lazy_clients()


@pytest.fixture
def logs(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The handler's structured log lines written during the test, parsed."""
    # powertools' handler keeps the stream it was created with; give it one this test owns.
    buffer = io.StringIO()
    log_handler = handler.logger.registered_handler
    monkeypatch.setattr(log_handler, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def emitted_metric(stdout: str, name: str) -> float:
    """Sum of the values of metric NAME in the EMF blobs powertools printed."""
    total = 0.0
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        blob = json.loads(line)
        if "_aws" in blob and name in blob:
            values = blob[name]
            total += sum(values) if isinstance(values, list) else values
    return total
