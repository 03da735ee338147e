"""POST /track's Idempotency-Key: a retried request gets the first answer and stores nothing.

The convention of Stripe's API and the IETF draft (draft-ietf-httpapi-idempotency-key-header):
the client sends a unique key with a request it may retry. Within WINDOW_S of the first
request finishing, the same key with the same update returns the first answer (the same
`timestamp`) without storing anything; the same key with another update is 422; a repeat that
arrives while the first is still running is 409 (retry it later). Requests without the header
never reach this module, so they stay at exactly one DynamoDB write.

Powertools' idempotency utility does the bookkeeping in its own table: a conditional PutItem
claims the key (in progress, expiring with the invocation), the update is stored, an UpdateItem
saves the answer; when storing fails, the claim is deleted so that a retry can succeed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import jsonio
from .errors import InvalidRequest, Refused
from .idempotency_contract import HEADER, KEY_PATTERN, MAX_KEY_CHARS, WINDOW_S
from .validation import TrackingUpdate

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

_HEADER_LOWER = HEADER.lower()  # HTTP header names are case-insensitive
_KEY_RE = re.compile(KEY_PATTERN)
# The record's key prefix: stable across releases and handler module names (powertools would
# otherwise derive it from the Python function's module path).
_KEY_PREFIX = "POST /track"
KEY_REUSED = f"{HEADER} was already used with another request body"
IN_PROGRESS = f"A request with this {HEADER} is still in progress; retry later"


def key_from(headers: Mapping[str, str] | None, multi_value_headers: Mapping[str, list[str]] | None) -> str | None:
    """The request's Idempotency-Key (the event's raw header maps), None without one; InvalidRequest if malformed."""
    # A scan of the raw maps: every POST pays for this, and building case-insensitive copies of
    # them (powertools' event.headers) costs several times more.
    values = [value for name, found in (multi_value_headers or {}).items() if name.lower() == _HEADER_LOWER
              for value in (found or [])]
    if not values:
        values = [value for name, value in (headers or {}).items() if name.lower() == _HEADER_LOWER]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(f"{HEADER} must be sent once")
    key = values[0]
    if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or not _KEY_RE.fullmatch(key):
        raise InvalidRequest(f"{HEADER} must be 1 to {MAX_KEY_CHARS} printable ASCII characters")
    return key


def fingerprint(update: TrackingUpdate) -> str:
    """The update as canonical JSON: equal for equal updates however the body was spelled."""
    body: dict[str, Any] = {
        "tracking_id": update.tracking_id,
        "status": update.status,
        "location": {"lat": update.lat, "lng": update.lng},
    }
    if update.metadata is not None:
        body["metadata"] = update.metadata
    # jsonio writes every Decimal with its exact digits (1.0 and 1 are one number).
    return jsonio.dumps(body, sort_keys=True)


def once(
    key: str, update: TrackingUpdate, store: Callable[[], dict[str, Any]], *,
    persistence_store: BasePersistenceLayer, context: Any,
) -> dict[str, Any]:
    """store()'s answer for the first request with this key (records in persistence_store); the same answer for its repeats."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=WINDOW_S,
        # An invocation that dies mid-request frees its key when its time is up, not after 24 h.
        lambda_context=context,
    )

    @idempotent_function(
        data_keyword_argument="request",
        config=config,
        persistence_store=persistence_store,
        key_prefix=_KEY_PREFIX,
    )
    def first_answer(request: dict[str, str]) -> dict[str, Any]:
        return store()

    try:
        return first_answer(request={"key": key, "request": fingerprint(update)})
    except IdempotencyValidationError:
        raise Refused(422, KEY_REUSED) from None
    except IdempotencyAlreadyInProgressError:
        raise Refused(409, IN_PROGRESS) from None
