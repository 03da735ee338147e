"""The change-set deployer: one small method per step, typed results, named failures."""

from __future__ import annotations

import shlex
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from botocore.parsers import ResponseParserError

from ..console import Console
from ..errors import DeployError, DeployTimeout, Interrupted, ReplacementRefused, UsageError
from ..package.s3upload import object_key, upload_if_missing
from .changeset import (
    DYNAMIC,
    ChangeSet,
    ResourceChange,
    format_changes,
    is_empty_reason,
    new_change_set_name,
)
from .events import EventStream, StackEvent
from .protection import (
    ALARM_TYPE,
    ALLOW_ALL_POLICY,
    rollback_alarm_ids,
    rollback_configuration,
    stack_policy,
)
from .template import StackTemplate

SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# States a stack can be updated from by an UPDATE change set.
UPDATABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
     "IMPORT_ROLLBACK_COMPLETE"}
)  # fmt: skip
CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
REVIEW = "REVIEW_IN_PROGRESS"
STACK_TYPE = "AWS::CloudFormation::Stack"
# The connection went away (botocore gave up retrying): the operation may carry on without us.
LOST_CONNECTION = (ConnectionError, HTTPClientError)
# How an endpoint says it lacks an operation (an emulator; moto answers HTML, a parse error).
UNSUPPORTED_CODES = frozenset({"InvalidAction", "NotImplemented", "UnknownOperationException"})


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
    # Turn on termination protection (after the first create, or when found off).
    termination_protection: bool = False
    # How long CloudFormation keeps watching the rollback-trigger alarms after an update.
    rollback_monitoring_minutes: int = 0
    # Parameters a live stack may never change (Environment: every named resource would be
    # replaced); a request with another value is refused before any change set.
    pinned_parameters: tuple[str, ...] = ()


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
        cli_options: tuple[str, ...] = (),
    ) -> None:
        self.cfn = cfn
        self.s3 = s3
        self.polling = polling or Polling()
        self.console = console or Console()
        self.sleep = sleep
        self.clock = clock
        # --region/--endpoint-url as given, for the aws commands printed as hints.
        self.cli_options = cli_options

    def aws_command(self, *words: str) -> str:
        """An `aws cloudformation ...` command line that reaches the same region and endpoint."""
        return shlex.join(["aws", "cloudformation", *words, *self.cli_options])

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

    def find_stack(self, name: str) -> StackInfo | None:
        """The stack to deploy to: by name, but never a review stack beside a live one.

        AWS keeps one stack per name and reuses one in REVIEW_IN_PROGRESS. An emulator may make
        a second stack of the same name beside it and then answer DescribeStacks by name with
        either; the live one (chosen by id) is the stack, and review stacks beside it are
        orphans (with their change sets), removed here.
        """
        stack = self.describe_stack(name)
        if stack is None or stack.status != REVIEW:
            return stack
        others = list(self.stacks_named(name))
        live = [s for s in others if s["StackStatus"] != REVIEW]
        if not live:
            return stack
        for orphan in others:
            if orphan["StackStatus"] == REVIEW:
                self.remove_review_stack(orphan["StackId"], name)
        return self.describe_stack(live[0]["StackId"])

    def stacks_named(self, name: str) -> Iterator[dict[str, Any]]:
        """Every stack of that name that is not deleted (ListStacks summaries)."""
        for page in self.cfn.get_paginator("list_stacks").paginate():
            for summary in page.get("StackSummaries", []):
                if summary["StackName"] == name and summary["StackStatus"] != "DELETE_COMPLETE":
                    yield summary

    def remove_review_stack(self, stack_id: str, name: str) -> None:
        """Delete a stack left in REVIEW_IN_PROGRESS (no resources; its change sets go with it)."""
        self.cfn.delete_stack(StackName=stack_id, ClientRequestToken=_token())
        self.console.info(f"Removed the orphaned review stack {name} ({stack_id})")

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
        if stack.status in ("UPDATE_FAILED", "CREATE_FAILED"):
            raise DeployError(
                f"stack {name} is {stack.status} and paused (it was changed with rollback "
                "disabled): roll it back with `"
                + self.aws_command("rollback-stack", "--stack-name", name)
                + "`, wait for it to finish, then deploy again"
            )
        if stack.status == "UPDATE_ROLLBACK_FAILED":
            raise DeployError(
                f"stack {name} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its "
                "last update. Fix the cause its events name (often a resource changed outside "
                "CloudFormation), run `"
                + self.aws_command("continue-update-rollback", "--stack-name", name)
                + "` (with --resources-to-skip for resources that cannot roll back), wait "
                "for UPDATE_ROLLBACK_COMPLETE, then deploy again"
            )
        if stack.in_progress:
            raise DeployError(
                f"stack {name} is {stack.status}: another operation is running; wait for it "
                "to finish, then deploy again"
            )
        # ROLLBACK_FAILED (a failed first create), DELETE_FAILED: nothing to keep updating.
        raise DeployError(
            f"stack {name} is {stack.status} and cannot be updated; delete it (keeping any "
            "resources that failed to delete) and deploy again"
        )

    def check_pinned(self, request: DeployRequest, stack: StackInfo | None) -> None:
        """Refuse to change a pinned parameter (the environment) of a live stack."""
        if stack is None or stack.status == REVIEW:
            return
        for name in request.pinned_parameters:
            current = stack.parameter_values.get(name)
            wanted = request.parameters.get(name)
            if current is None or wanted is None or current == wanted:
                continue
            if request.template.no_echo(name):
                raise UsageError(
                    f"stack {request.stack_name}: refusing to change its {name} (NoEcho): every "
                    "named resource would be replaced; deploy the new value to its own stack "
                    "(another --stack-name)"
                )
            raise UsageError(
                f"stack {request.stack_name} is {name}={current!r}, not {wanted!r}: moving a live "
                f"stack to another {name} would replace every named resource; deploy "
                f"{name}={wanted!r} to its own stack (another --stack-name)"
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
            # A nested stack gets a change set of its own, walked by the guard.
            "IncludeNestedStacks": True,
            **self.template_arguments(request.template, request),
        }
        if change_set_type == "UPDATE" and stack is not None:
            rollback = self.rollback_configuration(request, stack)
            if rollback is not None:
                arguments["RollbackConfiguration"] = rollback
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

    def rollback_configuration(
        self, request: DeployRequest, stack: StackInfo
    ) -> dict[str, Any] | None:
        """Rollback triggers: the template's 5XX and function-error alarms the stack already has."""
        wanted = rollback_alarm_ids(request.template)
        if not wanted:
            return None
        names = [
            resource["PhysicalResourceId"]
            for page in self.cfn.get_paginator("list_stack_resources").paginate(
                StackName=stack.stack_id
            )
            for resource in page.get("StackResourceSummaries", [])
            if resource.get("ResourceType") == ALARM_TYPE
            and resource.get("LogicalResourceId") in wanted
            and resource.get("PhysicalResourceId")
        ]
        if not names:
            return None
        config = rollback_configuration(stack.stack_id, names, request.rollback_monitoring_minutes)
        watched = ", ".join(t["Arn"].rsplit(":", 1)[1] for t in config["RollbackTriggers"])
        self.console.info(
            f"Rollback triggers: watching {watched} during the update and "
            f"{config['MonitoringTimeInMinutes']} minute(s) after; an alarm rolls it back"
        )
        return config

    def wait_for_change_set(
        self, arn: str, stack_id: str, name: str, change_set_type: str
    ) -> ChangeSet:
        """Poll until the change set is ready or failed; read every page of its changes."""
        deadline = self.clock() + self.polling.timeout
        delay = self.polling.delay
        left = (
            f"change set {name} was left unexecuted; nothing was deployed. Delete it with "
            f"`{self.aws_command('delete-change-set', '--change-set-name', arn)}`"
        )
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
            changes = self.read_changes(arn, response)
        except KeyboardInterrupt:
            raise Interrupted(left) from None
        except LOST_CONNECTION as error:
            raise DeployError(f"lost the connection to CloudFormation ({error}): {left}") from None
        return ChangeSet(
            arn=arn,
            stack_id=response.get("StackId", stack_id),
            name=name,
            change_set_type=change_set_type,
            status=status,
            reason=response.get("StatusReason", "") or "",
            changes=tuple(changes),
        )

    def read_changes(
        self, arn: str, first_page: dict[str, Any], parent: str = ""
    ) -> list[ResourceChange]:
        """Every change of a change set (all pages), then those of its nested stacks' change sets."""
        changes: list[ResourceChange] = []
        page: dict[str, Any] | None = first_page
        while page is not None:
            changes.extend(ResourceChange.from_api(c, parent) for c in page.get("Changes", []))
            token = page.get("NextToken")
            page = self.cfn.describe_change_set(ChangeSetName=arn, NextToken=token) if token else None
        nested: list[ResourceChange] = []
        for change in changes:
            if change.nested_change_set:
                response = self.cfn.describe_change_set(ChangeSetName=change.nested_change_set)
                nested.extend(
                    self.read_changes(change.nested_change_set, response, change.logical_id)
                )
        return changes + nested

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
        # RetainExceptOnCreate: a rollback deletes what this operation created even where the
        # template says Retain (fixed-name log groups, the DLQ), so a failed first create leaves
        # nothing behind that would make every later create fail with "already exists".
        self.cfn.execute_change_set(
            ChangeSetName=change_set.arn, ClientRequestToken=_token(), RetainExceptOnCreate=True
        )
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
        settled = False
        try:
            while True:
                stack = self.describe_stack(stack_id)
                for event in stream.poll():
                    self.console.info(event.line())
                    # DescribeStacks may still answer with the status from before the call;
                    # only the root stack's own terminal event says this operation ended.
                    settled = settled or _ends_operation(event, stack_name)
                if stack is None:
                    raise DeployError(f"stack {stack_name} ({stack_id}) disappeared while waiting")
                if not stack.in_progress and settled:
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
            raise Interrupted(f"stopped watching {self._carries_on(stack_name, status)}") from None
        except LOST_CONNECTION as error:
            self.console.end_progress()
            raise DeployError(
                f"lost the connection to CloudFormation ({error}) while watching "
                f"{self._carries_on(stack_name, status)}"
            ) from None

    def _carries_on(self, stack_name: str, status: str) -> str:
        follow = self.aws_command("describe-stack-events", "--stack-name", stack_name)
        return (
            f"stack {stack_name} ({status}); CloudFormation carries on and the stack may still "
            f"be changing. Follow it with `{follow}`"
        )

    # -- the whole deploy --------------------------------------------------------------------

    def deploy(self, request: DeployRequest) -> DeployResult:
        """Change set, plan, guard, execute and confirm; or stop when there is nothing to do."""
        stack = self.find_stack(request.stack_name)
        change_set_type, stack = self.prepare(request, stack)
        self.check_pinned(request, stack)
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
                "Not executed (--no-execute). To apply it: "
                + self.aws_command("execute-change-set", "--change-set-name", change_set.arn)
            )
            return DeployResult(
                request.stack_name, change_set.stack_id, "not-executed",
                stack.status if stack else REVIEW, {}, change_set,
            )  # fmt: skip
        policy = stack_policy(request.template)
        lifted = self.lift_policy(request, stack, policy)
        try:
            final = self.execute(change_set, request.stack_name)
        finally:
            if lifted:  # whatever the outcome: the stack never stays unprotected
                self.set_policy(change_set.stack_id, policy)
        self.console.info(f"Stack {request.stack_name}: {final.status}")
        self.protect(request, final, policy, lifted)
        if stack is not None and stack.status == REVIEW and stack.stack_id != final.stack_id:
            self.remove_review_stack(stack.stack_id, request.stack_name)
        return DeployResult(
            request.stack_name, final.stack_id, "deployed", final.status, final.outputs, change_set
        )

    # -- protection ---------------------------------------------------------------------------

    def lift_policy(self, request: DeployRequest, stack: StackInfo | None, policy: str | None) -> bool:
        """With --allow-replacement, allow every update of a live stack for this one execution."""
        if not (request.allow_replacement and policy and stack is not None and stack.status != REVIEW):
            return False
        self.console.info(
            f"--allow-replacement: the stack policy protecting the tables of {request.stack_name} "
            "is lifted for this update and restored after it"
        )
        self.set_policy(stack.stack_id, ALLOW_ALL_POLICY)
        return True

    def set_policy(self, stack_id: str, policy: str | None) -> None:
        """Set the stack policy (nothing to set without tables)."""
        if policy is not None:
            self.cfn.set_stack_policy(StackName=stack_id, StackPolicyBody=policy)

    def protect(
        self, request: DeployRequest, final: StackInfo, policy: str | None, restored: bool
    ) -> None:
        """After a successful execute: the tables' stack policy, and termination protection."""
        if not restored:  # a lifted policy was already put back
            self.set_policy(final.stack_id, policy)
        if request.termination_protection and not final.termination_protection:
            self.enable_termination_protection(final)

    def enable_termination_protection(self, stack: StackInfo) -> None:
        """Turn on termination protection; an endpoint without the call only gets a warning."""
        try:
            self.cfn.update_termination_protection(
                StackName=stack.stack_id, EnableTerminationProtection=True
            )
        except (ResponseParserError, ClientError) as error:
            if isinstance(error, ClientError) and _error_code(error) not in UNSUPPORTED_CODES:
                raise
            self.console.warn(
                f"warning: the endpoint does not support UpdateTerminationProtection; stack "
                f"{stack.name} is not protected from deletion"
            )
            return
        self.console.info(f"Termination protection enabled on stack {stack.name}")


def s3_https_url(s3: Any, bucket: str, key: str) -> str:
    """The virtual-hosted https URL of an object, as CloudFormation's TemplateURL expects."""
    region = s3.meta.region_name
    suffix = "amazonaws.com.cn" if s3.meta.partition == "aws-cn" else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def _risk(change: ResourceChange) -> str:
    if change.action == "Remove":
        return "removed"
    if change.action == DYNAMIC:
        return "Dynamic: CloudFormation cannot tell what will happen"
    return f"replacement {change.replacement}"


def _ends_operation(event: StackEvent, stack_name: str) -> bool:
    """The root stack's own event with a final status (not *_IN_PROGRESS)."""
    return (
        event.resource_type == STACK_TYPE
        and event.logical_id == stack_name
        and not event.status.endswith("_IN_PROGRESS")
    )


def _token() -> str:
    """An idempotency token for one API request (CloudFormation: up to 128 chars)."""
    return f"deploy-{uuid.uuid4()}"
