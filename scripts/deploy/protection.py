"""What protects a live stack besides the guards: its stack policy, rollback triggers, termination protection.

Both are derived from the template being deployed, never from hard-coded names, so a table or
an alarm added to the template is covered by the next deploy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..errors import DeployError
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

# An update that leaves RollbackConfiguration out reuses the triggers saved on the stack, and fails
# as a whole once one of those alarms is renamed or removed: an update always says "none" instead.
NO_ROLLBACK_TRIGGERS: dict[str, Any] = {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}

# Restoring the stack policy after --allow-replacement: attempts (beyond botocore's own retries),
# and the pause before the next one, times the attempt number.
RESTORE_ATTEMPTS = 3
RESTORE_BACKOFF_S = 2.0

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


def rollback_triggers(context: Context, request: DeployRequest, stack: StackInfo) -> dict[str, Any]:
    """Rollback triggers: the template's 5XX and function-error alarms the stack already has (maybe none)."""
    wanted = rollback_alarm_ids(request.template)
    if not wanted:
        return NO_ROLLBACK_TRIGGERS
    names = [
        resource["PhysicalResourceId"]
        for page in context.cfn.get_paginator("list_stack_resources").paginate(StackName=stack.stack_id)
        for resource in page.get("StackResourceSummaries", [])
        if resource.get("ResourceType") == ALARM_TYPE
        and resource.get("LogicalResourceId") in wanted
        and resource.get("PhysicalResourceId")
    ]
    if not names:
        return NO_ROLLBACK_TRIGGERS
    config = rollback_configuration(stack.stack_id, names, request.rollback_monitoring_minutes)
    watched = ", ".join(t["Arn"].rsplit(":", 1)[1] for t in config["RollbackTriggers"])
    context.console.info(
        f"Rollback triggers: watching {watched} during the update and "
        f"{config['MonitoringTimeInMinutes']} minute(s) after; an alarm rolls it back"
    )
    return config


def current_policy(context: Context, stack_id: str) -> str | None:
    """The stack policy the stack has now (None without one)."""
    return context.cfn.get_stack_policy(StackName=stack_id).get("StackPolicyBody") or None


@contextmanager
def policy_lifted(context: Context, request: DeployRequest, stack: StackInfo | None, stack_id: str) -> Iterator[None]:
    """Inside: the stack policy lifted if --allow-replacement asks; after: the one read before, restored."""
    if not (request.allow_replacement and stack is not None and stack.status != REVIEW):
        yield
        return
    # What the stack has, not what the template would give it: if the update rolls back, the
    # tables still there are the old template's, and the old policy is the one naming them.
    previous = current_policy(context, stack.stack_id)
    if previous is None or _same_policy(previous, ALLOW_ALL_POLICY):
        yield  # nothing to lift, nothing to restore
        return
    context.console.info(
        f"--allow-replacement: the stack policy protecting the tables of {request.stack_name} "
        "is lifted for this update and restored after it"
    )
    set_policy(context, stack.stack_id, ALLOW_ALL_POLICY)
    try:
        yield
    except BaseException:
        # Whatever the outcome the stack never stays unprotected; a failed restore is said, and
        # the error that ended the update stays the one raised.
        restore_policy(context, request.stack_name, stack_id, previous, raising=False)
        raise
    restore_policy(context, request.stack_name, stack_id, previous, raising=True)


def restore_policy(context: Context, stack_name: str, stack_id: str, policy: str, raising: bool) -> None:
    """Set POLICY again, RESTORE_ATTEMPTS times at most; then say (or raise) the command that would."""
    for attempt in range(1, RESTORE_ATTEMPTS + 1):
        try:
            set_policy(context, stack_id, policy)
            return
        except (ClientError, BotoCoreError) as error:
            failure = error
            if attempt < RESTORE_ATTEMPTS:
                context.sleep(RESTORE_BACKOFF_S * attempt)
    command = context.aws_command("set-stack-policy", "--stack-name", stack_id, "--stack-policy-body", policy)
    message = (
        f"could not restore the stack policy of {stack_name} after --allow-replacement "
        f"({failure}); its tables are unprotected until you run `{command}`"
    )
    if raising:
        raise DeployError(message)
    context.console.warn(f"error: {message}")


def _same_policy(first: str, second: str) -> bool:
    try:
        return bool(json.loads(first) == json.loads(second))
    except ValueError:
        return first == second


def set_policy(context: Context, stack_id: str, policy: str | None) -> None:
    """Set the stack policy (nothing to set without tables)."""
    if policy is not None:
        context.cfn.set_stack_policy(StackName=stack_id, StackPolicyBody=policy)


def protect(context: Context, request: DeployRequest, final: StackInfo, policy: str | None) -> None:
    """After a successful execute: the template's stack policy (its tables), and termination protection."""
    set_policy(context, final.stack_id, policy)
    _termination_protection(context, request, final)


def repair(context: Context, request: DeployRequest, stack: StackInfo, policy: str | None) -> None:
    """On a deploy with nothing to change: put back a stack policy or termination protection found missing."""
    if policy is not None:
        current = current_policy(context, stack.stack_id)
        if current is None or not _same_policy(current, policy):
            set_policy(context, stack.stack_id, policy)
            context.console.info(f"Stack policy of {stack.name} was not the template's: set again")
    _termination_protection(context, request, stack)


def _termination_protection(context: Context, request: DeployRequest, stack: StackInfo) -> None:
    if request.termination_protection and not stack.termination_protection:
        enable_termination_protection(context, stack)


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
