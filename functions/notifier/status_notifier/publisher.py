"""Publishing a notification to the SNS topic."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from . import message
from .records import Notification

# Standard retries absorb throttling; short timeouts keep a stuck call inside the function's
# timeout, so the record is reported as failed instead of the whole invocation timing out.
_CLIENT_CONFIG = {"retries": {"mode": "standard", "max_attempts": 3}, "connect_timeout": 5, "read_timeout": 10}


@lru_cache(maxsize=1)
def sns_client() -> Any:
    """The SNS client, created on first use (never at import); boto3 honours AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    return boto3.client("sns", config=Config(**_CLIENT_CONFIG))


def publish(topic_arn: str, notification: Notification, environment: str = "") -> str:
    """Publish one message for `notification`; returns SNS's MessageId, raises botocore errors."""
    response = sns_client().publish(
        TopicArn=topic_arn,
        Message=message.body(notification),
        Subject=message.subject(notification, environment),
        MessageAttributes=message.attributes(notification),
    )
    return response["MessageId"]
