"""boto3 clients of the stream function: short timeouts and standard retries, made on first use.

Short timeouts (SNS and DynamoDB answer in milliseconds from inside the region) bound a stuck
call, so the notifier can tell in advance whether one more call fits in the invocation's time;
standard retries absorb throttling. boto3 honours AWS_ENDPOINT_URL.

Every client comes from one session of our own whose data loader looks first in
`botocore_data/` (see trimmed_data.py): the SNS, DynamoDB and SSM models trimmed to the
operations this function calls, endpoints.json to these services. Parsing those instead of
botocore's full files is most of what a client costs at cold start. Nothing is made at import:
no client, no connection, no credentials (a SnapStart snapshot holds none of them).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from boto3 import Session

CONNECT_TIMEOUT_S = 1
READ_TIMEOUT_S = 3
MAX_ATTEMPTS = 3

_made: dict[str, Any] = {}
_lock = threading.RLock()  # re-entrant: the first client first makes (and keeps) the session


def _kept(key: str, make: Any) -> Any:
    found = _made.get(key)
    if found is None:
        with _lock:
            found = _made.get(key)
            if found is None:
                found = _made[key] = make()
    return found


def session() -> Session:
    """The boto3 session every client of this function is made from (trimmed models first)."""
    from . import trimmed_data

    return _kept("session", trimmed_data.new_session)


def make(service: str) -> Any:
    """A new low-level client for `service` from the function's session (never made at import)."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    return session().client(service, config=config)


def client(service: str) -> Any:
    """The function's one client for `service`, made on first use and shared across invocations."""
    return _kept(f"client:{service}", lambda: make(service))


def ssm_provider() -> SSMProvider:
    """Powertools' SSM parameter provider (it holds the max_age cache) over the function's SSM client."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return _kept("provider:ssm", lambda: SSMProvider(boto3_client=client("ssm")))


def reset() -> None:
    """Forget every client, the session and cached parameters (tests; after a SnapStart restore)."""
    with _lock:
        _made.clear()
