"""boto3 clients of the stream function: short timeouts and standard retries, made on first use.

Short timeouts (SNS and DynamoDB answer in milliseconds from inside the region) bound a stuck
call, so the notifier can tell in advance whether one more call fits in the invocation's time;
standard retries absorb throttling. boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_S = 1
READ_TIMEOUT_S = 3
MAX_ATTEMPTS = 3


def make(service: str) -> Any:
    """A new low-level client for `service` (callers cache it; never made at import)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    return boto3.client(service, config=config)
