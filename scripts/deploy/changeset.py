"""Change sets as typed records: what they would do, how to show it, what is too risky."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# The resource types whose loss loses data or access to data: the table, queues and buckets
# hold it; without the KMS key the encrypted data cannot be read; log groups are the record.
STATEFUL_TYPES = frozenset(
    {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::KMS::Key",
     "AWS::Logs::LogGroup"}
)  # fmt: skip
RISKY_REPLACEMENTS = frozenset({"True", "Conditional"})
# PolicyAction (Remove, or Modify with replacement): what CloudFormation does with the old
# resource under its DeletionPolicy/UpdateReplacePolicy. Only these delete it; Retain and
# Snapshot (and their Replace* forms) keep the data.
DELETING_POLICY_ACTIONS = frozenset({"Delete", "ReplaceAndDelete"})
# A Dynamic change: CloudFormation cannot tell what will happen until it runs.
DYNAMIC = "Dynamic"
# The two ways CloudFormation says "nothing to change" (FAILED change set / CreateChangeSet error).
EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")


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
        """A stateful resource that would be deleted, (maybe) replaced, or changed unknowably."""
        if self.resource_type not in STATEFUL_TYPES:
            return False
        if self.policy_action:  # CloudFormation says what becomes of the old resource
            return self.policy_action in DELETING_POLICY_ACTIONS
        return self.action in ("Remove", DYNAMIC) or self.replacement in RISKY_REPLACEMENTS

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
