"""Executing a change set, deleting a stack and waiting for either: exact reports and timing (Stubber)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.console import Console
from scripts.deploy.changeset import ChangeSet
from scripts.deploy.context import Context, Polling
from scripts.deploy.events import EventStream
from scripts.deploy.execute import StackFailed, delete_stack, execute, wait_stack
from scripts.deploy.stack import StackInfo
from scripts.errors import DeployError, DeployTimeout

from .stubbed import (
    CHANGE_SET_ID,
    EXECUTE_PARAMS,
    STACK,
    STACK_ID,
    FakeClock,
    event,
    stack,
)

ROOT = "AWS::CloudFormation::Stack"
PLAN = ChangeSet(CHANGE_SET_ID, STACK_ID, "deploy-1", "UPDATE", "CREATE_COMPLETE", "", ())


def _context(client: Any, clock: FakeClock, err: io.StringIO, polling: Polling | None = None) -> Context:
    return Context(client, None, polling or Polling(delay=5, backoff=1, max_delay=5, timeout=600),
                   Console(out=io.StringIO(), err=err, progress_interval=3600), clock.sleep, clock)  # fmt: skip


def _poll(stubber: Stubber, status: str, events: list[dict], reason: str = "") -> None:
    stubber.add_response("describe_stacks", stack(status, reason), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})


def _execute_rolled_back(stubber: Stubber, reason: str, failed: list[dict]) -> None:
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    done = event("e9", STACK, ROOT, "UPDATE_ROLLBACK_COMPLETE")
    _poll(stubber, "UPDATE_ROLLBACK_COMPLETE", [done, *failed], reason)


def test_a_rollback_with_no_failed_event_reports_the_stacks_own_reason(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN an update rolled back by an alarm: no resource failed, the stack says why
    client, stubber = cfn
    _execute_rolled_back(stubber, "Rollback triggered by alarm tracking-api-5xx-prod", [])
    err = io.StringIO()
    # WHEN executing THEN exit 1 naming the stack and its state, and the stack's reason on stderr
    with pytest.raises(StackFailed) as failed:
        execute(_context(client, clock, err), PLAN, STACK)
    assert str(failed.value) == f"deploy of stack {STACK} failed: it is UPDATE_ROLLBACK_COMPLETE"
    assert failed.value.failures == []
    assert err.getvalue() == "  Rollback triggered by alarm tracking-api-5xx-prod\n"


def test_failed_events_are_reported_instead_of_the_stacks_summary(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    # GIVEN a rollback caused by one resource, the stack's reason only repeating it
    client, stubber = cfn
    failed_row = event("e2", "Fn", "AWS::Lambda::Function", "UPDATE_FAILED", "NoSuchKey")
    _execute_rolled_back(stubber, "The following resource(s) failed to update: [Fn].", [failed_row])
    err = io.StringIO()
    with pytest.raises(StackFailed) as failed:
        execute(_context(client, clock, err), PLAN, STACK)
    # THEN only the failed resource's line
    assert [e.event_id for e in failed.value.failures] == ["e2"]
    assert err.getvalue() == "  FAILED Fn (AWS::Lambda::Function) UPDATE_FAILED: NoSuchKey\n"


def test_a_rollback_without_any_reason_prints_nothing_more(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    _execute_rolled_back(stubber, "", [])
    err = io.StringIO()
    with pytest.raises(StackFailed):
        execute(_context(client, clock, err), PLAN, STACK)
    assert err.getvalue() == ""


def test_a_stack_that_will_not_delete_is_named_with_its_state(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
    _poll(stubber, "DELETE_FAILED", [event("e1", STACK, ROOT, "DELETE_FAILED", "Bucket not empty")])
    with pytest.raises(DeployError) as failed:
        delete_stack(_context(client, clock, io.StringIO()), StackInfo(STACK_ID, STACK, "ROLLBACK_COMPLETE"))
    assert str(failed.value) == f"could not delete stack {STACK}: it is DELETE_FAILED"


def test_waiting_times_out_only_once_past_the_limit_and_counts_from_its_own_start(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN a clock far from zero, polls every 5 s and a 10 s limit: polls at 0, 5, 10 s wait on, 15 s ends it
    client, stubber = cfn
    clock.now = 1000.0
    for _ in range(4):
        _poll(stubber, "UPDATE_IN_PROGRESS", [])
    err = io.StringIO()
    context = _context(client, clock, err, Polling(delay=5, backoff=1, max_delay=5, timeout=10))
    stream = EventStream(client, STACK_ID)
    # WHEN waiting THEN exit 4 after the fourth poll, the elapsed time measured from the start
    with pytest.raises(DeployTimeout) as timed_out:
        wait_stack(context, STACK_ID, STACK, stream)
    assert str(timed_out.value) == (
        f"timed out after 15 s waiting for stack {STACK} (UPDATE_IN_PROGRESS); the stack may still be changing"
    )
    assert clock.now == 1015.0
    # AND the first progress line (not a terminal: the rest are rate-limited) says how long so far
    assert err.getvalue() == f"waiting for {STACK}: UPDATE_IN_PROGRESS (0 s)\n"
