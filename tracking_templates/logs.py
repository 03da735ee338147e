"""Log groups: one per function (named as Lambda expects), the API's access and execution logs."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.apigateway import RestApi
from troposphere.logs import LogGroup

from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .names import API_EXECUTION_LOG_NAME, API_FUNCTION_NAME, NOTIFIER_FUNCTION_NAME
from .settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Logs:
    """The function log groups and the API access log group."""

    api_function: LogGroup
    notifier_function: LogGroup
    api_access: LogGroup


def _log_group(logical_id: str, name: str, settings: Settings, inputs: Inputs, enc: Encryption,
               **variables: object) -> LogGroup:
    policy = "Retain" if settings.retain_logs else "Delete"
    return LogGroup(
        logical_id,
        LogGroupName=Sub(name, **variables),
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


def api_execution_log_group(settings: Settings, inputs: Inputs, enc: Encryption, rest_api: RestApi) -> LogGroup:
    """The stage's execution log group, under the name API Gateway writes to.

    Created by the stack (before the stage) so that it is encrypted and expires with the other
    logs: API Gateway would otherwise create it on the first error, unencrypted and kept forever.
    """
    return _log_group("ApiExecutionLogGroup", API_EXECUTION_LOG_NAME, settings, inputs, enc, Api=Ref(rest_api))
