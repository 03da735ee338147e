"""Executing a change set (or deleting a stack) and waiting, with its events, until it settles."""

from __future__ import annotations

from ..errors import DeployError, DeployTimeout, Interrupted
from .changeset import ChangeSet
from .context import LOST_CONNECTION, Context, token
from .events import EventStream, StackEvent
from .stack import StackInfo, describe_stack

SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
STACK_TYPE = "AWS::CloudFormation::Stack"


class StackFailed(DeployError):
    """The stack operation ended in a failure state; `failures` are the failed events."""

    def __init__(self, message: str, failures: list[StackEvent]) -> None:
        super().__init__(message)
        self.failures = failures


def execute(context: Context, change_set: ChangeSet, stack_name: str) -> StackInfo:
    """Execute the change set, stream the stack's events, and confirm the final state."""
    stream = EventStream(context.cfn, change_set.stack_id)
    stream.prime()
    # RetainExceptOnCreate: a rollback deletes what this operation created even where the
    # template says Retain (fixed-name log groups, the DLQ), so a failed first create leaves
    # nothing behind that would make every later create fail with "already exists".
    context.cfn.execute_change_set(
        ChangeSetName=change_set.arn, ClientRequestToken=token(), RetainExceptOnCreate=True
    )
    final = wait_stack(context, change_set.stack_id, stack_name, stream)
    if final.status in SUCCESS_STATES:
        return final
    failures = stream.failures()
    for event in failures:
        where = f"{event.logical_id} ({event.resource_type})"
        context.console.warn(f"  FAILED {where} {event.status}: {event.reason}")
    if not failures and final.reason:
        context.console.warn(f"  {final.reason}")
    raise StackFailed(f"deploy of stack {stack_name} failed: it is {final.status}", failures)


def delete_stack(context: Context, stack: StackInfo) -> None:
    """Delete a stack and wait until it is gone."""
    stream = EventStream(context.cfn, stack.stack_id)
    stream.prime()
    context.cfn.delete_stack(StackName=stack.stack_id, ClientRequestToken=token())
    final = wait_stack(context, stack.stack_id, stack.name, stream)
    if final.status != "DELETE_COMPLETE":
        raise DeployError(f"could not delete stack {stack.name}: it is {final.status}")


def wait_stack(context: Context, stack_id: str, stack_name: str, stream: EventStream) -> StackInfo:
    """Poll the stack (by id) and its new events until no operation is running."""
    polling = context.polling
    started = context.clock()
    delay = polling.delay
    status = "changing"
    settled = False
    try:
        while True:
            stack = describe_stack(context, stack_id)
            for event in stream.poll():
                context.console.info(event.line())
                # DescribeStacks may still answer with the status from before the call;
                # only the root stack's own terminal event says this operation ended.
                settled = settled or _ends_operation(event, stack_name)
            if stack is None:
                raise DeployError(f"stack {stack_name} ({stack_id}) disappeared while waiting")
            if not stack.in_progress and settled:
                return stack
            status = stack.status
            elapsed = context.clock() - started
            if elapsed > polling.timeout:
                raise DeployTimeout(
                    f"timed out after {elapsed:.0f} s waiting for stack {stack_name} "
                    f"({stack.status}); the stack may still be changing"
                )
            context.console.progress(f"waiting for {stack_name}: {stack.status} ({elapsed:.0f} s)")
            context.sleep(delay)
            delay = min(delay * polling.backoff, polling.max_delay)
    except KeyboardInterrupt:
        context.console.end_progress()
        raise Interrupted(f"stopped watching {_carries_on(context, stack_name, status)}") from None
    except LOST_CONNECTION as error:
        context.console.end_progress()
        raise DeployError(
            f"lost the connection to CloudFormation ({error}) while watching "
            f"{_carries_on(context, stack_name, status)}"
        ) from None


def _carries_on(context: Context, stack_name: str, status: str) -> str:
    follow = context.aws_command("describe-stack-events", "--stack-name", stack_name)
    return (
        f"stack {stack_name} ({status}); CloudFormation carries on and the stack may still "
        f"be changing. Follow it with `{follow}`"
    )


def _ends_operation(event: StackEvent, stack_name: str) -> bool:
    """The root stack's own event with a final status (not *_IN_PROGRESS)."""
    return (
        event.resource_type == STACK_TYPE
        and event.logical_id == stack_name
        and not event.status.endswith("_IN_PROGRESS")
    )
