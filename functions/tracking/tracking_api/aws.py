"""AWS clients, made on first use and reused while the settings that shape them stay the same.

Nothing here runs at import: no client, no AWS call. A client is keyed by the region and
endpoint settings in the environment when it is asked for, so code that points
AWS_ENDPOINT_URL somewhere else (a local emulator restarted on a new port, a test) gets a
client for the new place instead of one pinned at import. boto3 reads AWS_ENDPOINT_URL
(and AWS_ENDPOINT_URL_<SERVICE>) itself.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.client import BaseClient

_CONNECT_TIMEOUT_S = 3
_READ_TIMEOUT_S = 10
_MAX_ATTEMPTS = 3  # botocore "standard" retries: throttling and transient errors, with backoff

_cache: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def _settings_key(kind: str, service: str) -> tuple[str, ...]:
    return (
        kind,
        service,
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "",
        os.environ.get("AWS_ENDPOINT_URL") or "",
        os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or "",
    )


def _new_client(service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=_CONNECT_TIMEOUT_S,
        read_timeout=_READ_TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
    )
    return boto3.client(service, config=config)


def client(service: str) -> BaseClient:
    """A low-level client for service, shared across warm invocations."""
    key = _settings_key("client", service)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = _new_client(service)
    return found


def ssm_provider() -> SSMProvider:
    """Powertools' SSM parameter provider (it holds the max_age cache) over our SSM client."""
    key = _settings_key("provider", "ssm")
    found = _cache.get(key)
    if found is None:
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        ssm = client("ssm")
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = SSMProvider(boto3_client=ssm)
    return found


def reset() -> None:
    """Forget every client and cached parameter (tests; a process that changes accounts)."""
    with _lock:
        _cache.clear()
