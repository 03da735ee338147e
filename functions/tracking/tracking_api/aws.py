"""AWS clients, made on first use and reused while the settings that shape them stay the same.

Nothing here runs at import: no client, no AWS call. A client is keyed by the region and
endpoint settings in the environment when it is asked for, so code that points
AWS_ENDPOINT_URL somewhere else (a local emulator restarted on a new port, a test) gets a
client for the new place instead of one pinned at import. boto3 reads AWS_ENDPOINT_URL
(and AWS_ENDPOINT_URL_<SERVICE>) itself.

Every client comes from one session of our own whose data loader looks first in
`botocore_data/` (see trimmed_data.py): service models trimmed to the operations this function
calls and endpoints.json trimmed to its services. The session is ours alone, so other code in
the process (tests, a local emulator) keeps boto3's default session and the full data.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from boto3 import Session
    from botocore.client import BaseClient

_CONNECT_TIMEOUT_S = 3
_READ_TIMEOUT_S = 10
_MAX_ATTEMPTS = 3  # botocore "standard" retries: throttling and transient errors, with backoff
DEFAULT_POOL_CONNECTIONS = 10  # botocore's own default

_cache: dict[tuple[str, ...], Any] = {}
_lock = threading.RLock()  # re-entrant: making a client first makes (and caches) the session


def _cached(key: tuple[str, ...], make: Callable[[], Any]) -> Any:
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = make()
    return found


def _settings_key(kind: str, service: str) -> tuple[str, ...]:
    return (
        kind,
        service,
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "",
        os.environ.get("AWS_ENDPOINT_URL") or "",
        os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or "",
    )


def _new_session() -> Session:
    from . import trimmed_data

    return trimmed_data.new_session()


def session() -> Session:
    """The boto3 session every client of this function is made from (trimmed models first)."""
    return _cached(("session",), _new_session)


def _config(pool_connections: int = DEFAULT_POOL_CONNECTIONS) -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=_CONNECT_TIMEOUT_S,
        read_timeout=_READ_TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
        max_pool_connections=pool_connections,
    )


def _new_client(service: str, pool_connections: int) -> BaseClient:
    return session().client(service, config=_config(pool_connections))


def client(service: str, parallel_requests: int = 0) -> BaseClient:
    """A low-level client for service, shared across warm invocations.

    Its connection pool holds parallel_requests connections (at least botocore's 10): a pool
    smaller than the requests sent at once opens and then discards a connection for each extra
    one, a TLS handshake per request.
    """
    pool = max(DEFAULT_POOL_CONNECTIONS, parallel_requests)
    return _cached((*_settings_key("client", service), str(pool)), lambda: _new_client(service, pool))


def _new_ssm_provider() -> SSMProvider:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client("ssm"))


def ssm_provider() -> SSMProvider:
    """Powertools' SSM parameter provider (it holds the max_age cache) over our SSM client."""
    return _cached(_settings_key("provider", "ssm"), _new_ssm_provider)


def _new_full_model_client(service: str) -> BaseClient:
    import boto3

    # boto3's own data: the whole service model, not the cut the function's session loads.
    return boto3.Session().client(service, config=_config())


def full_model_client(service: str) -> BaseClient:
    """A client on botocore's full service model, for libraries calling operations our cut leaves out."""
    return _cached(_settings_key("full-model-client", service), lambda: _new_full_model_client(service))


def _new_persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from .idempotency_contract import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE

    # Powertools calls GetItem, UpdateItem and DeleteItem too, which the trimmed model leaves out;
    # this client is made only when a request carries an Idempotency-Key.
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=KEY_ATTRIBUTE,
        expiry_attr=EXPIRY_ATTRIBUTE,
        boto3_client=full_model_client("dynamodb"),
    )


def persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    """Powertools' idempotency store over table_name, shared across warm invocations."""
    return _cached((*_settings_key("idempotency", "dynamodb"), table_name), lambda: _new_persistence_layer(table_name))


def reset() -> None:
    """Forget every client and cached parameter (tests; a process that changes accounts)."""
    with _lock:
        _cache.clear()
