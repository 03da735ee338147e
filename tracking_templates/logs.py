"""Log groups: one per function (named as Lambda expects) and the API's access log."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Sub
from troposphere.logs import LogGroup

from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .names import API_FUNCTION_NAME, NOTIFIER_FUNCTION_NAME
from .settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Logs:
    """The function log groups and the API access log group."""

    api_function: LogGroup
    notifier_function: LogGroup
    api_access: LogGroup


def _log_group(logical_id: str, name: str, settings: Settings, inputs: Inputs, enc: Encryption) -> LogGroup:
    policy = "Retain" if settings.retain_logs else "Delete"
    return LogGroup(
        logical_id,
        LogGroupName=Sub(name),
        RetentionInDays=settings.log_retention_days,
        KmsKeyId=GetAtt(enc.key, "Arn"),
        Tags=stack_tags(inputs),
        DeletionPolicy=policy,
        UpdateReplacePolicy=policy,
    )


def logs(settings: Settings, inputs: Inputs, enc: Encryption) -> Logs:
    """Encrypted log groups with the environment's retention, created before their writers."""
    return Logs(
        api_function=_log_group("TrackingFunctionLogGroup", "/aws/lambda/" + API_FUNCTION_NAME, settings, inputs, enc),
        notifier_function=_log_group(
            "NotifierFunctionLogGroup", "/aws/lambda/" + NOTIFIER_FUNCTION_NAME, settings, inputs, enc
        ),
        api_access=_log_group(
            "ApiAccessLogGroup", "/aws/apigateway/tracking-api-${Environment}/access", settings, inputs, enc
        ),
    )
