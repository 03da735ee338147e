"""The guards: no live stack moved to another environment, no stateful resource lost unasked."""

from __future__ import annotations

from ..errors import ReplacementRefused, UsageError
from .changeset import DYNAMIC, SNAPSHOT_TYPES, ChangeSet, ResourceChange, delete_change_set
from .context import Context
from .request import DeployRequest
from .stack import REVIEW, StackInfo


def check_pinned(request: DeployRequest, stack: StackInfo | None) -> None:
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


def guard(context: Context, change_set: ChangeSet, allow_replacement: bool) -> None:
    """Refuse (and delete) a change set that replaces or removes stateful resources."""
    risky = change_set.risky
    if not risky or allow_replacement:
        return
    delete_change_set(context, change_set)
    named = ", ".join(f"{c.logical_id} ({c.resource_type}: {_risk(c)})" for c in risky)
    raise ReplacementRefused(
        f"the change set would replace or remove stateful resources: {named}. Nothing changed: the "
        "change set was deleted. Re-run with --allow-replacement if the data loss is intended"
    )


def _risk(change: ResourceChange) -> str:
    if change.action == "Remove":
        return "removed" + _fate(change)
    if change.action == DYNAMIC:
        return "Dynamic: CloudFormation cannot tell what will happen" + _fate(change)
    return f"replacement {change.replacement or 'by policy'}" + _fate(change)


def _fate(change: ResourceChange) -> str:
    """What CloudFormation's PolicyAction does with the old resource, when it says."""
    policy = change.policy_action
    if not policy:
        return ""
    kept = policy.removeprefix("ReplaceAnd")
    if kept == "Retain":
        where = "left outside the stack, orphaned"
        fate = f"the stack points at a new, empty one, the old one {where}" if kept != policy else where
    elif kept == "Snapshot" and change.resource_type in SNAPSHOT_TYPES:
        fate = "deleted after a snapshot"
    elif kept == "Snapshot":
        fate = f"deleted, {change.resource_type} cannot be snapshotted"
    else:
        fate = "deleted"
    return f"; {policy}: {fate}"
