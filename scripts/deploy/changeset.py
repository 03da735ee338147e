"""Change sets: typed records of what they would do, how to show it, what is too risky; and
creating one, waiting for it and reading every page of it (and of its nested stacks' change sets)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from ..errors import DeployError, DeployTimeout, Interrupted, UsageError
from ..package.s3upload import object_key, upload_if_missing
from .context import LOST_CONNECTION, Context, error_code, error_message, token
from .protection import rollback_triggers
from .request import DeployRequest
from .stack import StackInfo
from .template import StackTemplate

# The resource types that can take a snapshot before deletion (DeletionPolicy `Snapshot`, as
# CloudFormation's DeletionPolicy documentation lists them): for every other type `Snapshot` and
# `ReplaceAndSnapshot` delete the resource.
SNAPSHOT_TYPES = frozenset(
    {"AWS::EC2::Volume", "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup",
     "AWS::Neptune::DBCluster", "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::Redshift::Cluster"}
)  # fmt: skip
# The resource types whose loss loses data or access to data: the table, queues and buckets
# hold it; without the KMS key the encrypted data cannot be read; log groups are the record;
# the types that can snapshot are databases and volumes (a snapshot is not the live data).
STATEFUL_TYPES = frozenset(
    {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::KMS::Key",
     "AWS::Logs::LogGroup"}
) | SNAPSHOT_TYPES  # fmt: skip
# Removing a nested stack deletes its resources (tables too), and it has no change set to walk.
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
RISKY_REPLACEMENTS = frozenset({"True", "Conditional"})
# A Dynamic change: CloudFormation cannot tell what will happen until it runs.
DYNAMIC = "Dynamic"
# The two ways CloudFormation says "nothing to change" (FAILED change set / CreateChangeSet error).
EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})


@dataclass(frozen=True)
class ResourceChange:
    """One row of a change set: what happens to one resource."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""
    policy_action: str = ""
    # A nested stack's row: the id of its own change set (IncludeNestedStacks), to walk.
    nested_change_set: str = ""

    @property
    def is_risky(self) -> bool:
        """A stateful resource removed, (maybe) replaced, or changed unknowably; a nested stack removed.

        Whatever its PolicyAction: Retain keeps the old resource but outside the stack, which
        then points at a new, empty one (or none); a PolicyAction is only given for a removal or
        a replacement.
        """
        if self.resource_type == NESTED_STACK_TYPE:
            return self.action == "Remove"
        if self.resource_type not in STATEFUL_TYPES:
            return False
        return (
            self.action in ("Remove", DYNAMIC) or self.replacement in RISKY_REPLACEMENTS or bool(self.policy_action)
        )

    @classmethod
    def from_api(cls, change: dict[str, Any], parent: str = "") -> ResourceChange:
        """From one DescribeChangeSet `Changes` item; PARENT prefixes a nested stack's rows."""
        resource = change.get("ResourceChange", {})
        logical_id = resource.get("LogicalResourceId", "")
        return cls(
            action=resource.get("Action", ""),
            logical_id=f"{parent}/{logical_id}" if parent else logical_id,
            resource_type=resource.get("ResourceType", ""),
            replacement=resource.get("Replacement") or "",
            policy_action=resource.get("PolicyAction") or "",
            nested_change_set=resource.get("ChangeSetId") or "",
        )


@dataclass(frozen=True)
class ChangeSet:
    """A created change set: ids, type, final status and every change (all pages)."""

    arn: str
    stack_id: str
    name: str
    change_set_type: str
    status: str
    reason: str
    changes: tuple[ResourceChange, ...]

    @property
    def is_empty(self) -> bool:
        """CloudFormation found nothing to change."""
        return self.status == "FAILED" and is_empty_reason(self.reason)

    @property
    def risky(self) -> tuple[ResourceChange, ...]:
        """The changes the replacement guard refuses."""
        return tuple(change for change in self.changes if change.is_risky)


def is_empty_reason(text: str) -> bool:
    """True for either of CloudFormation's 'nothing to change' messages."""
    return any(reason in text for reason in EMPTY_REASONS)


def new_change_set_name(prefix: str = "deploy", now: datetime | None = None) -> str:
    """A valid, unique change set name: PREFIX-YYYYmmddHHMMSS-<8 hex>."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S")
    name = f"{prefix}-{stamp}-{uuid.uuid4().hex[:8]}"
    if not CHANGE_SET_NAME_RE.match(name):
        raise ValueError(f"invalid change set name {name!r}")
    return name


def format_changes(changes: Iterable[ResourceChange], color: bool = False) -> str:
    """The changes as an aligned text table; replacements are marked (and red when COLOR)."""
    header = ("Action", "Logical ID", "Type", "Replacement")
    changes = tuple(changes)
    rows = [(c.action, c.logical_id, c.resource_type, _replacement_cell(c)) for c in changes]
    if not rows:
        return "(no resource changes)"
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), _row(tuple("-" * w for w in widths), widths)]
    for change, row in zip(changes, rows):
        line = _row(row, widths)
        # Red for whatever may lose a resource, stateful or not: the reader judges the rest.
        if color and (change.action in ("Remove", DYNAMIC) or change.replacement in RISKY_REPLACEMENTS):
            line = f"\033[1;31m{line}\033[0m"
        lines.append(line)
    return "\n".join(lines)


def _replacement_cell(change: ResourceChange) -> str:
    if change.action == DYNAMIC and not change.replacement:
        return "unknown (Dynamic)"
    if change.replacement in RISKY_REPLACEMENTS:
        cell = f"{change.replacement} (REPLACES)"
    else:
        cell = change.replacement or "-"
    # What happens to the old resource, when CloudFormation says (why a row is or isn't refused).
    return f"{cell} [{change.policy_action}]" if change.policy_action else cell


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


# -- creating and reading a change set -------------------------------------------------------


def create_change_set(
    context: Context, request: DeployRequest, change_set_type: str, stack: StackInfo | None
) -> ChangeSet:
    """Create a change set and wait until CloudFormation has worked out its changes."""
    name = new_change_set_name()
    arguments: dict[str, Any] = {
        "StackName": request.stack_name,
        "ChangeSetName": name,
        "ChangeSetType": change_set_type,
        "Parameters": parameter_list(request, change_set_type, stack),
        "Capabilities": request.template.capabilities(),
        "ClientToken": token(),
        "Description": "Created by python -m scripts.deploy",
        # A nested stack gets a change set of its own, walked by the guard.
        "IncludeNestedStacks": True,
        **template_arguments(context, request.template, request),
    }
    if change_set_type == "UPDATE" and stack is not None:
        arguments["RollbackConfiguration"] = rollback_triggers(context, request, stack)
    if request.tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(request.tags.items())]
    try:
        response = context.cfn.create_change_set(**arguments)
    except ClientError as error:
        message = error_message(error)
        if error_code(error) == "ValidationError" and is_empty_reason(message):
            stack_id = stack.stack_id if stack else ""
            return ChangeSet("", stack_id, name, change_set_type, "FAILED", message, ())
        raise
    return wait_for_change_set(context, response["Id"], response["StackId"], name, change_set_type)


def template_arguments(context: Context, template: StackTemplate, request: DeployRequest) -> dict[str, str]:
    """TemplateBody, or TemplateURL after uploading a template too big to send inline."""
    if not template.needs_s3:
        return {"TemplateBody": template.body}
    if not request.artifact_bucket or context.s3 is None:
        raise UsageError(
            f"the template is {template.size:,} bytes, over CloudFormation's 51,200-byte "
            "TemplateBody limit: it must go through S3, so an artifact bucket is needed"
        )
    prefix = "/".join(p for p in (request.artifact_prefix.strip("/"), "templates") if p)
    key = object_key(prefix, template.sha256, ".json")
    upload_if_missing(context.s3, request.artifact_bucket, key, template.body.encode("utf-8"), "application/json")
    return {"TemplateURL": s3_https_url(context.s3, request.artifact_bucket, key)}


def s3_https_url(s3: Any, bucket: str, key: str) -> str:
    """The virtual-hosted https URL of an object, as CloudFormation's TemplateURL expects."""
    region = s3.meta.region_name
    suffix = "amazonaws.com.cn" if s3.meta.partition == "aws-cn" else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def parameter_list(request: DeployRequest, change_set_type: str, stack: StackInfo | None) -> list[dict[str, Any]]:
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


def wait_for_change_set(context: Context, arn: str, stack_id: str, name: str, change_set_type: str) -> ChangeSet:
    """Poll until the change set is ready or failed; read every page of its changes."""
    polling = context.polling
    deadline = context.clock() + polling.timeout
    delay = polling.delay
    left = (
        f"change set {name} was left unexecuted; nothing was deployed. Delete it with "
        f"`{context.aws_command('delete-change-set', '--change-set-name', arn)}`"
    )
    try:
        while True:
            response = context.cfn.describe_change_set(ChangeSetName=arn)
            status = response["Status"]
            if status not in CHANGE_SET_PENDING:
                break
            if context.clock() > deadline:
                raise DeployTimeout(f"change set {name} was still {status} when waiting timed out")
            context.sleep(delay)
            delay = min(delay * polling.backoff, polling.max_delay)
        changes = read_changes(context, arn, response)
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


def read_changes(context: Context, arn: str, first_page: dict[str, Any], parent: str = "") -> list[ResourceChange]:
    """Every change of a change set (all pages), then those of its nested stacks' change sets."""
    changes: list[ResourceChange] = []
    page: dict[str, Any] | None = first_page
    while page is not None:
        changes.extend(ResourceChange.from_api(c, parent) for c in page.get("Changes", []))
        next_token = page.get("NextToken")
        page = context.cfn.describe_change_set(ChangeSetName=arn, NextToken=next_token) if next_token else None
    nested: list[ResourceChange] = []
    for change in changes:
        if change.nested_change_set:
            response = context.cfn.describe_change_set(ChangeSetName=change.nested_change_set)
            nested.extend(read_changes(context, change.nested_change_set, response, change.logical_id))
    return changes + nested


def delete_change_set(context: Context, change_set: ChangeSet) -> None:
    """Delete a change set (there is none to delete for an empty one refused up front)."""
    if change_set.arn:
        context.cfn.delete_change_set(ChangeSetName=change_set.arn)


def show_change_set(context: Context, change_set: ChangeSet, stack_name: str) -> None:
    """Print the plan: every change, replacements marked; a change set that failed is deleted and refused."""
    if change_set.status != "CREATE_COMPLETE":
        delete_change_set(context, change_set)
        raise DeployError(f"change set {change_set.name} failed: {change_set.reason}")
    context.console.info(f"Change set {change_set.name} ({change_set.change_set_type}) for stack {stack_name}:")
    context.console.info(format_changes(change_set.changes, color=context.console.color))
