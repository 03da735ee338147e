"""Publishing a notification to the SNS topic."""

from __future__ import annotations

from typing import Any

from . import clients, message
from .records import Notification

# botocore's standard mode waits at most random(0, 1) * 2**n seconds before retry n.
_MAX_BACKOFF_S = sum(2**retry for retry in range(clients.MAX_ATTEMPTS - 1))
WORST_CASE_PUBLISH_MS = 1000 * (
    clients.MAX_ATTEMPTS * (clients.CONNECT_TIMEOUT_S + clients.READ_TIMEOUT_S) + _MAX_BACKOFF_S
)


def sns_client() -> Any:
    """The SNS client, created on first use (never at import)."""
    return clients.client("sns")


def publish(topic_arn: str, notification: Notification, environment: str = "") -> str:
    """Publish one message for `notification`; returns SNS's MessageId, raises botocore errors."""
    response = sns_client().publish(
        TopicArn=topic_arn,
        Message=message.body(notification),
        Subject=message.subject(notification, environment),
        MessageAttributes=message.attributes(notification),
    )
    return response["MessageId"]
