"""The SSM parameters the functions read: API configuration, database endpoint, feature flags."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import Ref, Sub
from troposphere.ssm import Parameter as SsmParameter

from .names import CONFIG_PARAM_PATH, DB_PARAM_PATH, FEATURE_FLAGS_PARAM_PATH, Resources
from .storage import Storage

# The original design's values.
API_CONFIG = {"max_request_size": "10MB", "timeout": 30, "rate_limit": 100}
FEATURE_FLAGS = {"enhanced_tracking": True, "batch_processing": False, "real_time_notifications": True}


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameters:
    """The three parameters, each under /logistics/<area>/<env>/."""

    config: SsmParameter
    db_endpoint: SsmParameter
    feature_flags: SsmParameter

    @property
    def all(self) -> tuple[SsmParameter, ...]:
        """Every parameter, in a fixed order."""
        return (self.config, self.db_endpoint, self.feature_flags)


def _json(value: dict) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def parameters(store: Storage) -> Parameters:
    """String parameters: CloudFormation cannot create SecureString ones, and none is a secret
    (the database "endpoint" is the table's name). Untagged: moto 5.2 fails on the map form
    CloudFormation uses for SSM tags, and the stack's own tags reach them anyway."""
    return Parameters(
        config=SsmParameter(
            Resources.CONFIG_PARAM,
            Name=Sub(CONFIG_PARAM_PATH),
            Type="String",
            Value=_json(API_CONFIG),
            Description="Tracking API configuration (JSON)",
        ),
        db_endpoint=SsmParameter(
            Resources.DB_PARAM,
            Name=Sub(DB_PARAM_PATH),
            Type="String",
            Value=Ref(store.table),
            Description="The tracking table's name",
        ),
        feature_flags=SsmParameter(
            Resources.FEATURE_FLAGS_PARAM,
            Name=Sub(FEATURE_FLAGS_PARAM_PATH),
            Type="String",
            Value=_json(FEATURE_FLAGS),
            Description="Feature flags (JSON); real_time_notifications switches the notifier",
        ),
    )
