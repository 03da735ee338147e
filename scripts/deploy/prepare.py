"""Preparing the stack: CREATE or UPDATE by its state, a failed first create cleared, the rest refused."""

from __future__ import annotations

from ..errors import DeployError
from .context import Context
from .execute import delete_stack
from .request import DeployRequest
from .stack import REVIEW, UPDATABLE_STATES, StackInfo


def prepare(context: Context, request: DeployRequest, stack: StackInfo | None) -> tuple[str, StackInfo | None]:
    """CREATE or UPDATE by the stack's state; clear a ROLLBACK_COMPLETE stack; refuse others."""
    name = request.stack_name
    if stack is None or stack.status == REVIEW:
        return "CREATE", stack
    if stack.status in UPDATABLE_STATES:
        return "UPDATE", stack
    if stack.status == "ROLLBACK_COMPLETE":
        if not request.execute:
            raise DeployError(
                f"stack {name} is ROLLBACK_COMPLETE (its first create failed); a deploy "
                "without --no-execute deletes it and creates it anew"
            )
        context.console.info(
            f"Stack {name} is ROLLBACK_COMPLETE (its first create failed and nothing is "
            "left in it): deleting it to create it anew"
        )
        delete_stack(context, stack)
        return "CREATE", None
    if stack.status in ("UPDATE_FAILED", "CREATE_FAILED"):
        raise DeployError(
            f"stack {name} is {stack.status} and paused (it was changed with rollback "
            "disabled): roll it back with `"
            + context.aws_command("rollback-stack", "--stack-name", name)
            + "`, wait for it to finish, then deploy again"
        )
    if stack.status == "UPDATE_ROLLBACK_FAILED":
        raise DeployError(
            f"stack {name} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its "
            "last update. Fix the cause its events name (often a resource changed outside "
            "CloudFormation), run `"
            + context.aws_command("continue-update-rollback", "--stack-name", name)
            + "` (with --resources-to-skip for resources that cannot roll back), wait "
            "for UPDATE_ROLLBACK_COMPLETE, then deploy again"
        )
    if stack.status == "IMPORT_ROLLBACK_FAILED":
        # Neither RollbackStack (CREATE_FAILED, UPDATE_FAILED) nor ContinueUpdateRollback
        # (UPDATE_ROLLBACK_FAILED) accepts this state, and deleting the stack deletes what it held.
        raise DeployError(
            f"stack {name} is IMPORT_ROLLBACK_FAILED: an import of existing resources failed and "
            "so did its rollback; the stack still holds its own resources (its tables too), so do "
            "not delete it. Find the resources that failed with `"
            + context.aws_command("describe-stack-events", "--stack-name", name)
            + "`, fix what they name (often a resource changed or deleted outside CloudFormation), "
            "then run the import again; no rollback command accepts this state, so if the import "
            "cannot be completed ask AWS Support to recover the stack, then deploy again"
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
