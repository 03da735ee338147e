"""Finding the stack to deploy to: what DescribeStacks says, and the review stacks beside it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .context import Context, error_code, error_message, token

REVIEW = "REVIEW_IN_PROGRESS"
# States a stack can be updated from by an UPDATE change set.
UPDATABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
     "IMPORT_ROLLBACK_COMPLETE"}
)  # fmt: skip


@dataclass(frozen=True)
class StackInfo:
    """What DescribeStacks says about one stack."""

    stack_id: str
    name: str
    status: str
    parameters: frozenset[str] = frozenset()
    outputs: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    parameter_values: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False

    @classmethod
    def from_api(cls, stack: dict[str, Any]) -> StackInfo:
        """From one `Stacks` item."""
        values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        return cls(
            stack_id=stack["StackId"],
            name=stack["StackName"],
            status=stack["StackStatus"],
            parameters=frozenset(values),
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
            reason=stack.get("StackStatusReason", "") or "",
            parameter_values=values,
            termination_protection=bool(stack.get("EnableTerminationProtection", False)),
        )

    @property
    def in_progress(self) -> bool:
        """Some operation is still running on the stack."""
        return self.status.endswith("_IN_PROGRESS")


def describe_stack(context: Context, stack: str) -> StackInfo | None:
    """The stack by name or id, or None when there is none."""
    try:
        response = context.cfn.describe_stacks(StackName=stack)
    except ClientError as error:
        # CloudFormation has no error code of its own for a missing stack.
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return None
        raise
    stacks = response.get("Stacks", [])
    return StackInfo.from_api(stacks[0]) if stacks else None


def find_stack(context: Context, name: str) -> StackInfo | None:
    """The stack to deploy to: by name, but never a review stack beside a live one.

    AWS keeps one stack per name and reuses one in REVIEW_IN_PROGRESS. An emulator may make
    a second stack of the same name beside it and then answer DescribeStacks by name with
    either; the live one (chosen by id) is the stack, and review stacks beside it are
    orphans (with their change sets), removed here.
    """
    stack = describe_stack(context, name)
    if stack is None or stack.status != REVIEW:
        return stack
    others = list(stacks_named(context, name))
    live = [s for s in others if s["StackStatus"] != REVIEW]
    if not live:
        return stack
    for orphan in others:
        if orphan["StackStatus"] == REVIEW:
            remove_review_stack(context, orphan["StackId"], name)
    return describe_stack(context, live[0]["StackId"])


def stacks_named(context: Context, name: str) -> Iterator[dict[str, Any]]:
    """Every stack of that name that is not deleted (ListStacks summaries)."""
    for page in context.cfn.get_paginator("list_stacks").paginate():
        for summary in page.get("StackSummaries", []):
            if summary["StackName"] == name and summary["StackStatus"] != "DELETE_COMPLETE":
                yield summary


def remove_review_stack(context: Context, stack_id: str, name: str) -> None:
    """Delete a stack left in REVIEW_IN_PROGRESS (no resources; its change sets go with it)."""
    context.cfn.delete_stack(StackName=stack_id, ClientRequestToken=token())
    context.console.info(f"Removed the orphaned review stack {name} ({stack_id})")


def physical_id(context: Context, stack: str, logical_id: str) -> str:
    """The physical id of one resource of STACK."""
    response = context.cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return response["StackResourceDetail"]["PhysicalResourceId"]
