"""Preparing the stack: CREATE or UPDATE by its state, and each state that refuses a change set, word for word."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.console import Console
from scripts.deploy.context import Context, Polling
from scripts.deploy.prepare import prepare
from scripts.deploy.stack import StackInfo
from scripts.errors import DeployError

from .stubbed import STACK, STACK_ID, FakeClock, event, request, stack

UPDATABLE = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE"]  # fmt: skip


def _context(client: Any = None, clock: FakeClock | None = None, out: io.StringIO | None = None) -> Context:
    clock = clock or FakeClock()
    return Context(client, None, Polling(delay=5), Console(out=out or io.StringIO()), clock.sleep, clock,
                   ("--region", "eu-west-1"))  # fmt: skip


def _stack(status: str) -> StackInfo:
    return StackInfo(STACK_ID, STACK, status)


def test_no_stack_or_a_review_stack_is_created_into() -> None:
    assert prepare(_context(), request(), None) == ("CREATE", None)
    review = _stack("REVIEW_IN_PROGRESS")
    assert prepare(_context(), request(), review) == ("CREATE", review)


@pytest.mark.parametrize("status", UPDATABLE)
def test_a_settled_stack_is_updated(status: str) -> None:
    live = _stack(status)
    assert prepare(_context(), request(), live) == ("UPDATE", live)


ROLLBACK = "aws cloudformation rollback-stack --stack-name tracking-prod --region eu-west-1"
CONTINUE = "aws cloudformation continue-update-rollback --stack-name tracking-prod --region eu-west-1"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("UPDATE_FAILED", f"stack tracking-prod is UPDATE_FAILED and paused (it was changed with rollback disabled): "
                          f"roll it back with `{ROLLBACK}`, wait for it to finish, then deploy again"),
        ("CREATE_FAILED", f"stack tracking-prod is CREATE_FAILED and paused (it was changed with rollback disabled): "
                          f"roll it back with `{ROLLBACK}`, wait for it to finish, then deploy again"),
        ("UPDATE_ROLLBACK_FAILED",
         "stack tracking-prod is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its last update. Fix "
         "the cause its events name (often a resource changed outside CloudFormation), run "
         f"`{CONTINUE}` (with --resources-to-skip for resources that cannot roll back), wait for "
         "UPDATE_ROLLBACK_COMPLETE, then deploy again"),
        ("IMPORT_ROLLBACK_FAILED",
         "stack tracking-prod is IMPORT_ROLLBACK_FAILED: an import of existing resources failed and so did its "
         "rollback; the stack still holds its own resources (its tables too), so do not delete it. Find the "
         "resources that failed with `aws cloudformation describe-stack-events --stack-name tracking-prod --region "
         "eu-west-1`, fix what they name (often a resource changed or deleted outside CloudFormation), then run the "
         "import again; no rollback command accepts this state, so if the import cannot be completed ask AWS "
         "Support to recover the stack, then deploy again"),
        ("UPDATE_IN_PROGRESS", "stack tracking-prod is UPDATE_IN_PROGRESS: another operation is running; wait for "
                               "it to finish, then deploy again"),
        ("DELETE_IN_PROGRESS", "stack tracking-prod is DELETE_IN_PROGRESS: another operation is running; wait for "
                               "it to finish, then deploy again"),
        ("ROLLBACK_FAILED", "stack tracking-prod is ROLLBACK_FAILED and cannot be updated; delete it (keeping any "
                            "resources that failed to delete) and deploy again"),
        ("DELETE_FAILED", "stack tracking-prod is DELETE_FAILED and cannot be updated; delete it (keeping any "
                          "resources that failed to delete) and deploy again"),
    ],
)
def test_each_state_no_change_set_can_start_from_says_how_to_recover(status: str, message: str) -> None:
    # GIVEN no client at all: refusing makes no call
    with pytest.raises(DeployError) as refused:
        prepare(_context(), request(), _stack(status))
    assert (str(refused.value), refused.value.exit_code) == (message, 1)


def test_a_failed_first_create_is_kept_by_a_plan() -> None:
    with pytest.raises(DeployError) as refused:
        prepare(_context(), request(execute=False), _stack("ROLLBACK_COMPLETE"))
    assert str(refused.value) == (
        "stack tracking-prod is ROLLBACK_COMPLETE (its first create failed); a deploy without --no-execute "
        "deletes it and creates it anew"
    )


def test_a_failed_first_create_is_deleted_and_created_anew(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
    stubber.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": STACK_ID})
    done = event("e1", STACK, "AWS::CloudFormation::Stack", "DELETE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": STACK_ID})
    out = io.StringIO()
    assert prepare(_context(client, clock, out), request(), _stack("ROLLBACK_COMPLETE")) == ("CREATE", None)
    assert out.getvalue().splitlines()[0] == (
        "Stack tracking-prod is ROLLBACK_COMPLETE (its first create failed and nothing is left in it): "
        "deleting it to create it anew"
    )
