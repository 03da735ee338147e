"""What protects a live stack besides the guards: its stack policy, rollback triggers, termination protection.

Both are derived from the template being deployed, never from hard-coded names, so a table or
an alarm added to the template is covered by the next deploy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from .context import UNSUPPORTED_CODES, Context, error_code
from .request import DeployRequest
from .stack import REVIEW, StackInfo
from .template import StackTemplate

TABLE_TYPE = "AWS::DynamoDB::Table"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
# The alarms that mean "this release is broken": the API answering 5XX, a function failing.
ROLLBACK_METRICS = frozenset({("AWS/ApiGateway", "5XXError"), ("AWS/Lambda", "Errors")})
# CloudFormation takes at most 5 rollback triggers and 180 minutes of monitoring.
MAX_ROLLBACK_TRIGGERS = 5
MAX_MONITORING_MINUTES = 180

_ALLOW_UPDATES = {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
# The temporary policy of an update run with --allow-replacement: every update allowed.
ALLOW_ALL_POLICY = json.dumps({"Statement": [_ALLOW_UPDATES]}, sort_keys=True)


def stack_policy(template: StackTemplate) -> str | None:
    """A stack policy denying replacement and deletion of every table (None without tables)."""
    tables = template.resources_of_type(TABLE_TYPE)
    if not tables:
        return None
    deny = {
        "Effect": "Deny",
        "Action": ["Update:Replace", "Update:Delete"],
        "Principal": "*",
        "Resource": [f"LogicalResourceId/{table}" for table in tables],
    }
    return json.dumps({"Statement": [_ALLOW_UPDATES, deny]}, sort_keys=True)


def rollback_alarm_ids(template: StackTemplate) -> frozenset[str]:
    """The logical ids of the template's alarms on API 5XX answers or function errors."""
    return frozenset(
        logical_id
        for logical_id in template.resources_of_type(ALARM_TYPE)
        if _metric(template.document["Resources"][logical_id]) in ROLLBACK_METRICS
    )


def _metric(alarm: dict[str, Any]) -> tuple[Any, Any]:
    properties = alarm.get("Properties")
    if not isinstance(properties, dict):
        return (None, None)
    return (properties.get("Namespace"), properties.get("MetricName"))


def alarm_arn(stack_id: str, alarm_name: str) -> str:
    """The ARN of alarm ALARM_NAME in the stack's partition, region and account."""
    # arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
    _, partition, _, region, account, _ = stack_id.split(":", 5)
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}"


def rollback_configuration(
    stack_id: str, alarm_names: list[str], monitoring_minutes: int
) -> dict[str, Any]:
    """A change set's RollbackConfiguration: these alarms, watched this many minutes after."""
    return {
        "RollbackTriggers": [
            {"Arn": alarm_arn(stack_id, name), "Type": ALARM_TYPE}
            for name in sorted(alarm_names)[:MAX_ROLLBACK_TRIGGERS]
        ],
        "MonitoringTimeInMinutes": min(monitoring_minutes, MAX_MONITORING_MINUTES),
    }


# -- applying them to the stack ---------------------------------------------------------------


def rollback_triggers(context: Context, request: DeployRequest, stack: StackInfo) -> dict[str, Any] | None:
    """Rollback triggers: the template's 5XX and function-error alarms the stack already has."""
    wanted = rollback_alarm_ids(request.template)
    if not wanted:
        return None
    names = [
        resource["PhysicalResourceId"]
        for page in context.cfn.get_paginator("list_stack_resources").paginate(StackName=stack.stack_id)
        for resource in page.get("StackResourceSummaries", [])
        if resource.get("ResourceType") == ALARM_TYPE
        and resource.get("LogicalResourceId") in wanted
        and resource.get("PhysicalResourceId")
    ]
    if not names:
        return None
    config = rollback_configuration(stack.stack_id, names, request.rollback_monitoring_minutes)
    watched = ", ".join(t["Arn"].rsplit(":", 1)[1] for t in config["RollbackTriggers"])
    context.console.info(
        f"Rollback triggers: watching {watched} during the update and "
        f"{config['MonitoringTimeInMinutes']} minute(s) after; an alarm rolls it back"
    )
    return config


@contextmanager
def policy_lifted(
    context: Context, request: DeployRequest, stack: StackInfo | None, policy: str | None, stack_id: str
) -> Iterator[bool]:
    """Inside: the stack policy lifted if --allow-replacement asks; after: restored on STACK_ID."""
    lifted = lift_policy(context, request, stack, policy)
    try:
        yield lifted
    finally:
        if lifted:  # whatever the outcome: the stack never stays unprotected
            set_policy(context, stack_id, policy)


def lift_policy(context: Context, request: DeployRequest, stack: StackInfo | None, policy: str | None) -> bool:
    """With --allow-replacement, allow every update of a live stack for this one execution."""
    if not (request.allow_replacement and policy and stack is not None and stack.status != REVIEW):
        return False
    context.console.info(
        f"--allow-replacement: the stack policy protecting the tables of {request.stack_name} "
        "is lifted for this update and restored after it"
    )
    set_policy(context, stack.stack_id, ALLOW_ALL_POLICY)
    return True


def set_policy(context: Context, stack_id: str, policy: str | None) -> None:
    """Set the stack policy (nothing to set without tables)."""
    if policy is not None:
        context.cfn.set_stack_policy(StackName=stack_id, StackPolicyBody=policy)


def protect(context: Context, request: DeployRequest, final: StackInfo, policy: str | None, restored: bool) -> None:
    """After a successful execute: the tables' stack policy, and termination protection."""
    if not restored:  # a lifted policy was already put back
        set_policy(context, final.stack_id, policy)
    if request.termination_protection and not final.termination_protection:
        enable_termination_protection(context, final)


def enable_termination_protection(context: Context, stack: StackInfo) -> None:
    """Turn on termination protection; an endpoint without the call only gets a warning."""
    try:
        context.cfn.update_termination_protection(StackName=stack.stack_id, EnableTerminationProtection=True)
    except (ResponseParserError, ClientError) as error:
        if isinstance(error, ClientError) and error_code(error) not in UNSUPPORTED_CODES:
            raise
        context.console.warn(
            f"warning: the endpoint does not support UpdateTerminationProtection; stack "
            f"{stack.name} is not protected from deletion"
        )
        return
    context.console.info(f"Termination protection enabled on stack {stack.name}")
