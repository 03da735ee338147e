"""Signed HTTP calls with retries: what a flaky network needs, and only when a retry is safe."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.credentials import Credentials
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError, SSLError
from botocore.httpsession import URLLib3Session

from .errors import ApiError, ApiUnreachable
from .signing import signed_request

# Answers worth another attempt: throttled, or a failure inside that may be transient.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# The header that makes a POST safe to repeat: the API stores one update per key and body.
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry (botocore's standard mode: 3 attempts, capped backoff)."""

    max_attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt ATTEMPT+1 (many clients must not retry in step)."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


class Transport:
    """Sends signed requests to one API; `send` retries only what is safe to repeat."""

    def __init__(
        self, credentials: Callable[[], Credentials], region: str, timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._credentials = credentials
        self.region = region
        self.retry = retry or RetryPolicy()
        # botocore's own HTTP layer: TLS verified against its CA bundle, proxies from the environment.
        self._http = URLLib3Session(timeout=timeout_s)

    def send(
        self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The parsed JSON answer of a 2xx; an ApiError for any other status, ApiUnreachable if none came.

        Retried (connection errors, RETRYABLE_STATUSES) only when sending it again is safe: a GET,
        or a request carrying an Idempotency-Key; anything else gets one attempt.
        """
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        all_headers = dict(headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        retry_safe = method == "GET" or any(name.lower() == IDEMPOTENCY_HEADER.lower() for name in all_headers)
        attempts = self.retry.max_attempts if retry_safe else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            request = signed_request(method, url, params or {}, data, all_headers, self._credentials(), self.region)
            try:
                response = self._http.send(request)
            except SSLError as error:  # a wrong certificate does not fix itself
                raise ApiUnreachable(f"{url}: {error}") from None
            except (BotocoreConnectionError, HTTPClientError) as error:
                if last:
                    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
                    raise ApiUnreachable(f"{error}{tries}") from None
            else:
                if 200 <= response.status_code < 300:
                    return _json(response.content)
                if last or response.status_code not in RETRYABLE_STATUSES:
                    raise _api_error(response.status_code, response.content)
            self.retry.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _api_error(status: int, content: bytes) -> ApiError:
    """The error with the API's reason: the handler's `{"error"}` or API Gateway's `{"message"}`."""
    body = _json(content)
    reason = None
    if isinstance(body, dict):
        reason = body.get("error", body.get("message"))
    if not isinstance(reason, str):
        reason = content[:200].decode("utf-8", "replace").strip() or "(no body)"
    return ApiError(status, reason, body)
