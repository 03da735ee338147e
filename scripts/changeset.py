"""Change sets as typed records: what they would do, how to show it, what is too risky."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# The resource types that hold data: replacing or removing one loses it.
STATEFUL_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket"})
RISKY_REPLACEMENTS = frozenset({"True", "Conditional"})
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

    @property
    def is_risky(self) -> bool:
        """A stateful resource that would be removed or (maybe) replaced."""
        if self.resource_type not in STATEFUL_TYPES:
            return False
        return self.action == "Remove" or self.replacement in RISKY_REPLACEMENTS

    @classmethod
    def from_api(cls, change: dict[str, Any]) -> ResourceChange:
        """From one DescribeChangeSet `Changes` item."""
        resource = change.get("ResourceChange", {})
        return cls(
            action=resource.get("Action", ""),
            logical_id=resource.get("LogicalResourceId", ""),
            resource_type=resource.get("ResourceType", ""),
            replacement=resource.get("Replacement", "") or "",
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
        if color and (change.replacement in RISKY_REPLACEMENTS or change.action == "Remove"):
            line = f"\033[1;31m{line}\033[0m"
        lines.append(line)
    return "\n".join(lines)


def _replacement_cell(change: ResourceChange) -> str:
    if change.replacement in RISKY_REPLACEMENTS:
        return f"{change.replacement} (REPLACES)"
    return change.replacement or "-"


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
