"""Feature flags: a JSON object of booleans in one SSM parameter, read through a 5-minute cache.

The flags gate optional behaviour, never the API's core job, so a missing or unreadable
parameter does not fail requests: it is logged as an error (with the request's correlation
id) and every flag reads as off. The failure is remembered for the same 5 minutes, so a
missing parameter costs one SSM call per 5 minutes, as a present one does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import aws
from .observability import logger

MAX_AGE_S = 300
_unavailable_until: dict[tuple[Any, str], float] = {}
_lock = threading.Lock()


def _as_flags(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        raise ValueError("the parameter is not a JSON object")
    return {name: flag for name, flag in value.items() if isinstance(flag, bool)}


def load(parameter_name: str | None) -> dict[str, bool]:
    """The flags stored in parameter_name ({} when unset or unavailable); at most one call per MAX_AGE_S."""
    if not parameter_name:
        return {}
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    provider = aws.ssm_provider()
    memo = (provider, parameter_name)
    if _unavailable_until.get(memo, 0.0) > time.monotonic():
        return {}
    try:
        return _as_flags(provider.get(parameter_name, max_age=MAX_AGE_S, transform="json"))
    except (GetParameterError, TransformParameterError, ValueError) as exc:
        with _lock:
            _unavailable_until[memo] = time.monotonic() + MAX_AGE_S
        logger.error(
            "Feature flags unavailable; every flag reads as off for %d s",
            MAX_AGE_S,
            extra={"parameter": parameter_name, "reason": str(exc)},
        )
        return {}


def reset() -> None:
    """Forget remembered failures (tests)."""
    with _lock:
        _unavailable_until.clear()
