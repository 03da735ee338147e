"""The change-set deployer: one small method per step, typed results, named failures."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from .changeset import (
    ChangeSet,
    ResourceChange,
    format_changes,
    is_empty_reason,
    new_change_set_name,
)
from .console import Console
from .errors import DeployError, DeployTimeout, Interrupted, ReplacementRefused, UsageError
from .events import EventStream, StackEvent
from .package import object_key, upload_if_missing
from .stack_template import StackTemplate

SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# States a stack can be updated from by an UPDATE change set.
UPDATABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
     "IMPORT_ROLLBACK_COMPLETE"}
)  # fmt: skip
CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})


@dataclass(frozen=True)
class Polling:
    """How to wait: first delay, growth per poll, ceiling, and the overall limit (seconds)."""

    delay: float = 2.0
    backoff: float = 1.5
    max_delay: float = 15.0
    timeout: float = 3600.0


@dataclass(frozen=True)
class StackInfo:
    """What DescribeStacks says about one stack."""

    stack_id: str
    name: str
    status: str
    parameters: frozenset[str] = frozenset()
    outputs: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @classmethod
    def from_api(cls, stack: dict[str, Any]) -> StackInfo:
        """From one `Stacks` item."""
        return cls(
            stack_id=stack["StackId"],
            name=stack["StackName"],
            status=stack["StackStatus"],
            parameters=frozenset(p["ParameterKey"] for p in stack.get("Parameters", [])),
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
            reason=stack.get("StackStatusReason", "") or "",
        )

    @property
    def in_progress(self) -> bool:
        """Some operation is still running on the stack."""
        return self.status.endswith("_IN_PROGRESS")


@dataclass(frozen=True)
class DeployRequest:
    """Everything one deploy needs, resolved and validated."""

    stack_name: str
    template: StackTemplate
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    execute: bool = True
    allow_replacement: bool = False
    # Where templates too big for TemplateBody are uploaded.
    artifact_bucket: str | None = None
    artifact_prefix: str = ""


Outcome = Literal["deployed", "no-changes", "not-executed"]


@dataclass(frozen=True)
class DeployResult:
    """How a deploy ended, with the stack's final status and outputs."""

    stack_name: str
    stack_id: str | None
    outcome: Outcome
    status: str | None
    outputs: dict[str, str]
    change_set: ChangeSet | None = None


class StackFailed(DeployError):
    """The stack operation ended in a failure state; `failures` are the failed events."""

    def __init__(self, message: str, failures: list[StackEvent]) -> None:
        super().__init__(message)
        self.failures = failures


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _error_message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message", "")


class Deployer:
    """Deploys a template to a stack through a change set, with boto3 clients it is handed."""

    def __init__(
        self,
        cfn: Any,
        s3: Any = None,
        polling: Polling | None = None,
        console: Console | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfn = cfn
        self.s3 = s3
        self.polling = polling or Polling()
        self.console = console or Console()
        self.sleep = sleep
        self.clock = clock

    # -- reading the stack -------------------------------------------------------------------

    def describe_stack(self, stack: str) -> StackInfo | None:
        """The stack by name or id, or None when there is none."""
        try:
            response = self.cfn.describe_stacks(StackName=stack)
        except ClientError as error:
            # CloudFormation has no error code of its own for a missing stack.
            if _error_code(error) == "ValidationError" and "does not exist" in _error_message(
                error
            ):
                return None
            raise
        stacks = response.get("Stacks", [])
        return StackInfo.from_api(stacks[0]) if stacks else None

    def physical_id(self, stack: str, logical_id: str) -> str:
        """The physical id of one resource of STACK."""
        response = self.cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
        return response["StackResourceDetail"]["PhysicalResourceId"]

    # -- deciding what kind of change set ----------------------------------------------------

    def prepare(
        self, request: DeployRequest, stack: StackInfo | None
    ) -> tuple[str, StackInfo | None]:
        """CREATE or UPDATE by the stack's state; clear a ROLLBACK_COMPLETE stack; refuse others."""
        name = request.stack_name
        if stack is None or stack.status == "REVIEW_IN_PROGRESS":
            return "CREATE", stack
        if stack.status in UPDATABLE_STATES:
            return "UPDATE", stack
        if stack.status == "ROLLBACK_COMPLETE":
            if not request.execute:
                raise DeployError(
                    f"stack {name} is ROLLBACK_COMPLETE (its first create failed); a deploy "
                    "without --no-execute deletes it and creates it anew"
                )
            self.console.info(
                f"Stack {name} is ROLLBACK_COMPLETE (its first create failed and nothing is "
                "left in it): deleting it to create it anew"
            )
            self.delete_stack(stack)
            return "CREATE", None
        if stack.status == "UPDATE_ROLLBACK_FAILED":
            raise DeployError(
                f"stack {name} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its "
                "last update. Fix the cause its events name (often a resource changed outside "
                f"CloudFormation), run `aws cloudformation continue-update-rollback --stack-name "
                f"{name}` (with --resources-to-skip for resources that cannot roll back), wait "
                "for UPDATE_ROLLBACK_COMPLETE, then deploy again"
            )
        if stack.in_progress:
            raise DeployError(
                f"stack {name} is {stack.status}: another operation is running; wait for it "
                "to finish, then deploy again"
            )
        raise DeployError(
            f"stack {name} is {stack.status} and cannot be updated; delete it (keeping any "
            "resources that failed to delete) and deploy again"
        )

    def delete_stack(self, stack: StackInfo) -> None:
        """Delete a stack and wait until it is gone."""
        stream = EventStream(self.cfn, stack.stack_id)
        stream.prime()
        self.cfn.delete_stack(StackName=stack.stack_id, ClientRequestToken=_token())
        final = self._wait_stack(stack.stack_id, stack.name, stream)
        if final.status != "DELETE_COMPLETE":
            raise DeployError(f"could not delete stack {stack.name}: it is {final.status}")

    # -- change sets --------------------------------------------------------------------------

    def template_arguments(
        self, template: StackTemplate, request: DeployRequest
    ) -> dict[str, str]:
        """TemplateBody, or TemplateURL after uploading a template too big to send inline."""
        if not template.needs_s3:
            return {"TemplateBody": template.body}
        if not request.artifact_bucket or self.s3 is None:
            raise UsageError(
                f"the template is {template.size:,} bytes, over CloudFormation's 51,200-byte "
                "TemplateBody limit: it must go through S3, so an artifact bucket is needed"
            )
        prefix = "/".join(p for p in (request.artifact_prefix.strip("/"), "templates") if p)
        key = object_key(prefix, template.sha256, ".json")
        upload_if_missing(
            self.s3, request.artifact_bucket, key, template.body.encode("utf-8"), "application/json"
        )
        return {"TemplateURL": s3_https_url(self.s3, request.artifact_bucket, key)}

    def parameter_list(
        self, request: DeployRequest, change_set_type: str, stack: StackInfo | None
    ) -> list[dict[str, Any]]:
        """Given values; for an update, the stack's previous value for any parameter not given."""
        parameters: list[dict[str, Any]] = []
        missing: list[str] = []
        for name in sorted(request.template.parameters):
            if name in request.parameters:
                value = request.parameters[name]
                parameters.append({"ParameterKey": name, "ParameterValue": value})
            elif change_set_type == "UPDATE" and stack is not None and name in stack.parameters:
                parameters.append({"ParameterKey": name, "UsePreviousValue": True})
            elif "Default" not in (request.template.document["Parameters"][name] or {}):
                missing.append(name)
        if missing:
            # CloudFormation would refuse the change set ("must have values"); say it first.
            pairs = " ".join(f"{name}=..." for name in missing)
            raise UsageError(
                f"no value for {', '.join(missing)} (no default in the template, no previous "
                f"value in the stack): pass --parameter-overrides {pairs}"
            )
        return parameters

    def create_change_set(
        self, request: DeployRequest, change_set_type: str, stack: StackInfo | None
    ) -> ChangeSet:
        """Create a change set and wait until CloudFormation has worked out its changes."""
        name = new_change_set_name()
        arguments: dict[str, Any] = {
            "StackName": request.stack_name,
            "ChangeSetName": name,
            "ChangeSetType": change_set_type,
            "Parameters": self.parameter_list(request, change_set_type, stack),
            "Capabilities": request.template.capabilities(),
            "ClientToken": _token(),
            "Description": "Created by python -m scripts.deploy",
            **self.template_arguments(request.template, request),
        }
        if request.tags:
            arguments["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(request.tags.items())]
        try:
            response = self.cfn.create_change_set(**arguments)
        except ClientError as error:
            message = _error_message(error)
            if _error_code(error) == "ValidationError" and is_empty_reason(message):
                stack_id = stack.stack_id if stack else ""
                return ChangeSet("", stack_id, name, change_set_type, "FAILED", message, ())
            raise
        return self.wait_for_change_set(response["Id"], response["StackId"], name, change_set_type)

    def wait_for_change_set(
        self, arn: str, stack_id: str, name: str, change_set_type: str
    ) -> ChangeSet:
        """Poll until the change set is ready or failed; read every page of its changes."""
        deadline = self.clock() + self.polling.timeout
        delay = self.polling.delay
        try:
            while True:
                response = self.cfn.describe_change_set(ChangeSetName=arn)
                status = response["Status"]
                if status not in CHANGE_SET_PENDING:
                    break
                if self.clock() > deadline:
                    raise DeployTimeout(f"change set {name} was still {status} when waiting timed out")
                self.sleep(delay)
                delay = min(delay * self.polling.backoff, self.polling.max_delay)
        except KeyboardInterrupt:
            raise Interrupted(
                f"change set {name} was left unexecuted; nothing was deployed. Delete it with "
                f"`aws cloudformation delete-change-set --change-set-name {arn}`"
            ) from None
        changes = [ResourceChange.from_api(c) for c in response.get("Changes", [])]
        token = response.get("NextToken")
        while token:
            page = self.cfn.describe_change_set(ChangeSetName=arn, NextToken=token)
            changes.extend(ResourceChange.from_api(c) for c in page.get("Changes", []))
            token = page.get("NextToken")
        return ChangeSet(
            arn=arn,
            stack_id=response.get("StackId", stack_id),
            name=name,
            change_set_type=change_set_type,
            status=status,
            reason=response.get("StatusReason", "") or "",
            changes=tuple(changes),
        )

    def delete_change_set(self, change_set: ChangeSet) -> None:
        """Delete a change set (there is none to delete for an empty one refused up front)."""
        if change_set.arn:
            self.cfn.delete_change_set(ChangeSetName=change_set.arn)

    def guard(self, change_set: ChangeSet, allow_replacement: bool) -> None:
        """Refuse (and delete) a change set that replaces or removes stateful resources."""
        risky = change_set.risky
        if not risky or allow_replacement:
            return
        self.delete_change_set(change_set)
        named = ", ".join(f"{c.logical_id} ({c.resource_type}: {_risk(c)})" for c in risky)
        raise ReplacementRefused(
            f"the change set would replace or remove stateful resources: {named}; it was "
            "deleted. Re-run with --allow-replacement if the data loss is intended"
        )

    # -- executing ---------------------------------------------------------------------------

    def execute(self, change_set: ChangeSet, stack_name: str) -> StackInfo:
        """Execute the change set, stream the stack's events, and confirm the final state."""
        stream = EventStream(self.cfn, change_set.stack_id)
        stream.prime()
        self.cfn.execute_change_set(ChangeSetName=change_set.arn, ClientRequestToken=_token())
        final = self._wait_stack(change_set.stack_id, stack_name, stream)
        if final.status in SUCCESS_STATES:
            return final
        failures = stream.failures()
        for event in failures:
            where = f"{event.logical_id} ({event.resource_type})"
            self.console.warn(f"  FAILED {where} {event.status}: {event.reason}")
        if not failures and final.reason:
            self.console.warn(f"  {final.reason}")
        raise StackFailed(f"deploy of stack {stack_name} failed: it is {final.status}", failures)

    def _wait_stack(self, stack_id: str, stack_name: str, stream: EventStream) -> StackInfo:
        """Poll the stack (by id) and its new events until no operation is running."""
        started = self.clock()
        delay = self.polling.delay
        status = "changing"
        try:
            while True:
                stack = self.describe_stack(stack_id)
                for event in stream.poll():
                    self.console.info(event.line())
                if stack is None:
                    raise DeployError(f"stack {stack_name} ({stack_id}) disappeared while waiting")
                if not stack.in_progress:
                    return stack
                status = stack.status
                elapsed = self.clock() - started
                if elapsed > self.polling.timeout:
                    raise DeployTimeout(
                        f"timed out after {elapsed:.0f} s waiting for stack {stack_name} "
                        f"({stack.status}); the stack may still be changing"
                    )
                self.console.progress(f"waiting for {stack_name}: {stack.status} ({elapsed:.0f} s)")
                self.sleep(delay)
                delay = min(delay * self.polling.backoff, self.polling.max_delay)
        except KeyboardInterrupt:
            self.console.end_progress()
            raise Interrupted(
                f"stopped watching stack {stack_name} ({status}); CloudFormation carries on. "
                f"Follow it with `aws cloudformation describe-stack-events --stack-name {stack_name}`"
            ) from None

    # -- the whole deploy --------------------------------------------------------------------

    def deploy(self, request: DeployRequest) -> DeployResult:
        """Change set, plan, guard, execute and confirm; or stop when there is nothing to do."""
        stack = self.describe_stack(request.stack_name)
        change_set_type, stack = self.prepare(request, stack)
        change_set = self.create_change_set(request, change_set_type, stack)
        if change_set.is_empty:
            self.delete_change_set(change_set)
            self.console.info(f"No changes to deploy. Stack {request.stack_name} is up to date")
            return DeployResult(
                request.stack_name,
                stack.stack_id if stack else None,
                "no-changes",
                stack.status if stack else None,
                stack.outputs if stack else {},
                change_set,
            )
        if change_set.status != "CREATE_COMPLETE":
            self.delete_change_set(change_set)
            raise DeployError(f"change set {change_set.name} failed: {change_set.reason}")
        self.console.info(
            f"Change set {change_set.name} ({change_set.change_set_type}) for stack "
            f"{request.stack_name}:"
        )
        self.console.info(format_changes(change_set.changes, color=self.console.color))
        self.guard(change_set, request.allow_replacement)
        if not request.execute:
            self.console.info(
                f"Not executed (--no-execute). To apply it: aws cloudformation "
                f"execute-change-set --change-set-name {change_set.arn}"
            )
            return DeployResult(
                request.stack_name, change_set.stack_id, "not-executed",
                stack.status if stack else "REVIEW_IN_PROGRESS", {}, change_set,
            )  # fmt: skip
        final = self.execute(change_set, request.stack_name)
        self.console.info(f"Stack {request.stack_name}: {final.status}")
        return DeployResult(
            request.stack_name, final.stack_id, "deployed", final.status, final.outputs, change_set
        )


def s3_https_url(s3: Any, bucket: str, key: str) -> str:
    """The virtual-hosted https URL of an object, as CloudFormation's TemplateURL expects."""
    region = s3.meta.region_name
    suffix = "amazonaws.com.cn" if s3.meta.partition == "aws-cn" else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def _risk(change: ResourceChange) -> str:
    return "removed" if change.action == "Remove" else f"replacement {change.replacement}"


def _token() -> str:
    """An idempotency token for one API request (CloudFormation: up to 128 chars)."""
    return f"deploy-{uuid.uuid4()}"
