"""The change-set deployer: the steps of one deploy, in the order the user reads them.

Each step lives in a module of its own (stack, prepare, changeset, guard, execute, protection),
as functions of the `Context` they are handed; `Deployer.deploy` only composes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..console import Console
from .changeset import ChangeSet, create_change_set, delete_change_set, parameter_list, show_change_set
from .context import Context, Polling
from .execute import StackFailed, execute
from .guard import check_pinned, guard
from .prepare import prepare
from .protection import policy_lifted, protect, repair, stack_policy
from .request import DeployRequest
from .stack import REVIEW, UPDATABLE_STATES, StackInfo, describe_stack, find_stack, physical_id, remove_review_stack

# The deploying library's front door: what the commands, scripts.local and the tests use.
__all__ = [
    "UPDATABLE_STATES", "DeployRequest", "DeployResult", "Deployer", "Outcome", "Polling", "StackFailed", "StackInfo",
]  # fmt: skip

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
        self.context = Context(cfn, s3, polling or Polling(), console or Console(), sleep, clock, cli_options)

    def deploy(self, request: DeployRequest) -> DeployResult:
        """Find and prepare the stack, create and show the change set, guard it, execute it, protect it."""
        context, name = self.context, request.stack_name
        change_set_type, stack = prepare(context, request, find_stack(context, name))
        check_pinned(request, stack)
        change_set = create_change_set(context, request, change_set_type, stack)
        if change_set.is_empty:
            return self._up_to_date(request, stack, change_set)
        show_change_set(context, change_set, name)
        guard(context, change_set, request.allow_replacement)
        if not request.execute:
            return self._not_executed(request, stack, change_set)
        with policy_lifted(context, request, stack, change_set.stack_id):
            final = execute(context, change_set, name)
        context.console.info(f"Stack {name}: {final.status}")
        protect(context, request, final, stack_policy(request.template))
        if stack is not None and stack.status == REVIEW and stack.stack_id != final.stack_id:
            remove_review_stack(context, stack.stack_id, name)
        return DeployResult(name, final.stack_id, "deployed", final.status, final.outputs, change_set)

    def _up_to_date(self, request: DeployRequest, stack: StackInfo | None, change_set: ChangeSet) -> DeployResult:
        delete_change_set(self.context, change_set)
        self.context.console.info(f"No changes to deploy. Stack {request.stack_name} is up to date")
        if stack is not None and stack.status != REVIEW:
            # A protection that failed to apply once is repaired here, not only after a change.
            repair(self.context, request, stack, stack_policy(request.template))
        return DeployResult(
            request.stack_name,
            stack.stack_id if stack else None,
            "no-changes",
            stack.status if stack else None,
            stack.outputs if stack else {},
            change_set,
        )

    def _not_executed(self, request: DeployRequest, stack: StackInfo | None, change_set: ChangeSet) -> DeployResult:
        command = self.context.aws_command("execute-change-set", "--change-set-name", change_set.arn)
        self.context.console.info(f"Not executed (--no-execute). To apply it: {command}")
        return DeployResult(
            request.stack_name, change_set.stack_id, "not-executed",
            stack.status if stack else REVIEW, {}, change_set,
        )  # fmt: skip

    # -- single steps, for the bootstrap command and the tests ---------------------------------

    def describe_stack(self, stack: str) -> StackInfo | None:
        """The stack by name or id, or None when there is none."""
        return describe_stack(self.context, stack)

    def find_stack(self, name: str) -> StackInfo | None:
        """The stack to deploy to (see `stack.find_stack`)."""
        return find_stack(self.context, name)

    def physical_id(self, stack: str, logical_id: str) -> str:
        """The physical id of one resource of STACK."""
        return physical_id(self.context, stack, logical_id)

    def parameter_list(
        self, request: DeployRequest, change_set_type: str, stack: StackInfo | None
    ) -> list[dict[str, Any]]:
        """The change set's Parameters (see `changeset.parameter_list`)."""
        return parameter_list(request, change_set_type, stack)

    def guard(self, change_set: ChangeSet, allow_replacement: bool) -> None:
        """Refuse (and delete) a change set that replaces or removes stateful resources."""
        guard(self.context, change_set, allow_replacement)
