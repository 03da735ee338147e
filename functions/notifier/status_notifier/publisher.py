"""Publishing a notification to the SNS topic."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from . import message
from .records import Notification

# Standard retries absorb throttling; short timeouts (SNS answers in milliseconds from inside
# the region) bound a stuck publish, so the notifier can tell in advance whether one more
# publish still fits in the invocation's remaining time.
_CONNECT_TIMEOUT_S = 1
_READ_TIMEOUT_S = 3
_MAX_ATTEMPTS = 3
# botocore's standard mode waits at most random(0, 1) * 2**n seconds before retry n.
_MAX_BACKOFF_S = sum(2**retry for retry in range(_MAX_ATTEMPTS - 1))
WORST_CASE_PUBLISH_MS = 1000 * (_MAX_ATTEMPTS * (_CONNECT_TIMEOUT_S + _READ_TIMEOUT_S) + _MAX_BACKOFF_S)


@lru_cache(maxsize=1)
def sns_client() -> Any:
    """The SNS client, created on first use (never at import); boto3 honours AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
        connect_timeout=_CONNECT_TIMEOUT_S,
        read_timeout=_READ_TIMEOUT_S,
    )
    return boto3.client("sns", config=config)


def publish(topic_arn: str, notification: Notification, environment: str = "") -> str:
    """Publish one message for `notification`; returns SNS's MessageId, raises botocore errors."""
    response = sns_client().publish(
        TopicArn=topic_arn,
        Message=message.body(notification),
        Subject=message.subject(notification, environment),
        MessageAttributes=message.attributes(notification),
    )
    return response["MessageId"]
