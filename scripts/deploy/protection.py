"""What protects a live stack besides the replacement guard: its stack policy and rollback triggers.

Both are derived from the template being deployed, never from hard-coded names, so a table or
an alarm added to the template is covered by the next deploy.
"""

from __future__ import annotations

import json
from typing import Any

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
