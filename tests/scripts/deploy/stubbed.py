"""CloudFormation answers shaped like AWS's, for the deployer's Stubber tests (what moto cannot emulate)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botocore.stub import ANY, Stubber

from scripts.deploy.deployer import DeployRequest
from scripts.deploy.template import StackTemplate

from ..deploy_support import queue_template

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "tracking-prod"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1a2b3c4d-0000-1111-2222-333344445555"
CHANGE_SET_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/deploy-1/9f8e7d6c-0000-1111-2222-333344445555"
)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
# Every execution deletes what it created if it rolls back, Retain or not.
EXECUTE_PARAMS = {"ChangeSetName": CHANGE_SET_ID, "ClientRequestToken": ANY, "RetainExceptOnCreate": True}


class FakeClock:
    """Time that moves only when the deployer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1.0)


def request(**overrides: Any) -> DeployRequest:
    values: dict[str, Any] = {"stack_name": STACK, "template": StackTemplate.from_text(queue_template())}
    values.update(overrides)
    return DeployRequest(**values)


def stack(status: str, reason: str = "", outputs: dict[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "StackId": STACK_ID,
        "StackName": STACK,
        "StackStatus": status,
        "CreationTime": NOW,
        "Parameters": [{"ParameterKey": "QueueName", "ParameterValue": "orders"}],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
    }
    if reason:
        item["StackStatusReason"] = reason
    return {"Stacks": [item]}


def change(action: str, logical_id: str, resource_type: str, replacement: str | None = None) -> dict:
    resource: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Scope": ["Properties"] if action == "Modify" else [],
        "Details": [],
    }
    if action == "Modify":
        resource["PhysicalResourceId"] = f"{logical_id.lower()}-physical"
        resource["Replacement"] = replacement or "False"
    return {"Type": "Resource", "ResourceChange": resource}


def change_set(status: str, changes: list[dict], reason: str = "", next_token: str | None = None) -> dict:
    response: dict[str, Any] = {
        "ChangeSetName": "deploy-1",
        "ChangeSetId": CHANGE_SET_ID,
        "StackId": STACK_ID,
        "StackName": STACK,
        "Status": status,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Changes": changes,
        "CreationTime": NOW,
    }
    if reason:
        response["StatusReason"] = reason
    if next_token:
        response["NextToken"] = next_token
    return response


def event(event_id: str, logical_id: str, resource_type: str, status: str, reason: str = "") -> dict:
    item = {
        "StackId": STACK_ID,
        "EventId": event_id,
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Timestamp": NOW,
        "ResourceStatus": status,
    }
    if reason:
        item["ResourceStatusReason"] = reason
    return item


def expect_update_change_set(stubber: Stubber, pages: list[dict]) -> None:
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "Parameters": ANY,
         "Capabilities": [], "ClientToken": ANY, "Description": ANY, "TemplateBody": ANY,
         "IncludeNestedStacks": True, "RollbackConfiguration": {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}},
    )  # fmt: skip
    stubber.add_response("describe_change_set", change_set("CREATE_IN_PROGRESS", []), {"ChangeSetName": CHANGE_SET_ID})
    for index, page in enumerate(pages):
        params = {"ChangeSetName": CHANGE_SET_ID}
        if index:
            params["NextToken"] = f"page-{index}"
        stubber.add_response("describe_change_set", page, params)


def expect_executed_update(stubber: Stubber, changes: list[dict], prior_events: list[dict]) -> None:
    """A one-page UPDATE change set with CHANGES, then the event stream's priming and the execute."""
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", changes)])
    stubber.add_response("describe_stack_events", {"StackEvents": prior_events}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
