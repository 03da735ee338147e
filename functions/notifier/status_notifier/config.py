"""The notifier's settings, read from its environment variables (names in env.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import env


class ConfigError(RuntimeError):
    """A required environment variable is missing: the function is misconfigured."""


def parse_statuses(text: str) -> frozenset[str]:
    """Split a comma-separated status list; blanks are ignored, so "" means no status at all."""
    return frozenset(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class NotifierConfig:
    """What the notifier needs to know about its deployment."""

    topic_arn: str
    notify_statuses: frozenset[str]
    feature_flags_param: str
    environment: str
    state_table_name: str
    listing_shards: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> NotifierConfig:
        """Read the settings; raises ConfigError naming a missing required variable."""
        required = (env.TOPIC_ARN, env.FEATURE_FLAGS_PARAM, env.STATE_TABLE_NAME, env.LISTING_SHARDS)
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variable(s): {', '.join(missing)}")
        shards = environ[env.LISTING_SHARDS]
        if not (shards.isascii() and shards.isdigit() and int(shards) >= 1):
            raise ConfigError(f"{env.LISTING_SHARDS} must be a positive integer, not {shards!r}")
        return cls(
            topic_arn=environ[env.TOPIC_ARN],
            notify_statuses=parse_statuses(environ.get(env.NOTIFY_STATUSES, env.DEFAULT_NOTIFY_STATUSES)),
            feature_flags_param=environ[env.FEATURE_FLAGS_PARAM],
            environment=environ.get(env.ENVIRONMENT, ""),
            state_table_name=environ[env.STATE_TABLE_NAME],
            listing_shards=int(shards),
        )
