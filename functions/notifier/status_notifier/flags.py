"""The `real_time_notifications` feature flag, read from SSM through powertools' cache.

Read with the function's own SSM client (clients.py: trimmed botocore models), not powertools'
default provider, whose client would load botocore's full SSM model at the first read.
"""

from __future__ import annotations

from . import clients
from .observability import logger

REAL_TIME_NOTIFICATIONS = "real_time_notifications"
# Flags change rarely; one SSM read per 5 minutes per execution environment is plenty.
FLAGS_MAX_AGE_SECONDS = 300


def real_time_notifications_enabled(flags_param: str) -> bool:
    """Whether the flag is on in the JSON object stored in `flags_param`.

    A flag that is absent or not a JSON boolean counts as off (and is logged). A parameter
    that cannot be read or is not JSON raises powertools' GetParameterError or
    TransformParameterError: the caller must not guess then.
    """
    flags = clients.ssm_provider().get(flags_param, max_age=FLAGS_MAX_AGE_SECONDS, transform="json")
    value = flags.get(REAL_TIME_NOTIFICATIONS) if isinstance(flags, dict) else None
    if not isinstance(value, bool):
        logger.warning(
            "Feature flag missing or not a boolean; notifications are off",
            extra={"flag": REAL_TIME_NOTIFICATIONS, "parameter": flags_param},
        )
        return False
    return value
