"""What moto cannot emulate, with botocore's Stubber and responses shaped like AWS's."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.cli import run
from scripts.console import Console
from scripts.deploy.deployer import Deployer, Polling, StackFailed
from scripts.errors import DeployError, ReplacementRefused
from .stubbed import (
    STACK,
    STACK_ID,
    CHANGE_SET_ID,
    EXECUTE_PARAMS,
    FakeClock,
    request,
    stack,
    change,
    change_set,
    event,
    expect_update_change_set,
    expect_executed_update,
)


def test_replacement_guard_refuses_replacing_or_removing_stateful_resources_on_any_page(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a change set whose two pages replace the table, maybe replace a queue, remove a bucket
    _, stubber = cfn
    expect_update_change_set(stubber, [
        change_set("CREATE_COMPLETE", [
            change("Modify", "TrackingFunction", "AWS::Lambda::Function", "False"),
            change("Modify", "TrackingTable", "AWS::DynamoDB::Table", "True"),
        ], next_token="page-1"),
        change_set("CREATE_COMPLETE", [
            change("Modify", "DeadLetterQueue", "AWS::SQS::Queue", "Conditional"),
            change("Remove", "OldBucket", "AWS::S3::Bucket"),
            change("Modify", "Dashboard", "AWS::CloudWatch::Dashboard", "True"),
        ]),
    ])  # fmt: skip
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying without --allow-replacement
    with pytest.raises(ReplacementRefused) as refused:
        deployer.deploy(request())
    # THEN exit 3 names exactly the stateful resources at risk; the change set was deleted
    assert refused.value.exit_code == 3
    message = str(refused.value)
    for name in ("TrackingTable", "DeadLetterQueue", "OldBucket"):
        assert name in message
    assert "TrackingFunction" not in message and "Dashboard" not in message
    # AND every page's rows were printed, replacements marked
    out = capsys.readouterr().out
    assert "TrackingFunction" in out and "Dashboard" in out
    assert "True (REPLACES)" in out and "Conditional (REPLACES)" in out


def test_allow_replacement_executes_and_reports_success(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a change set that replaces the table, and --allow-replacement
    _, stubber = cfn
    old = event("e0", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [
        change("Modify", "TrackingTable", "AWS::DynamoDB::Table", "True")])])  # fmt: skip
    # the stack has no policy: nothing to lift
    stubber.add_response("get_stack_policy", {}, {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    stubber.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    started = event("e1", STACK, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated")
    stubber.add_response("describe_stack_events", {"StackEvents": [started, old]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs={"TableName": "t2"}), {"StackName": STACK_ID})
    done = event("e2", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [done, started, old]}, {"StackName": STACK_ID})
    # WHEN deploying with --allow-replacement
    result = deployer.deploy(request(allow_replacement=True))
    # THEN it is executed, the new events are streamed once each, and outputs are read back
    assert (result.outcome, result.status, result.outputs) == ("deployed", "UPDATE_COMPLETE", {"TableName": "t2"})
    out = capsys.readouterr().out
    assert out.count("User Initiated") == 1 and out.count("UPDATE_COMPLETE ") == 1


def test_failed_update_prints_each_failed_resource_and_its_reason(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an update in which one resource fails and the stack rolls back
    _, stubber = cfn
    expect_executed_update(stubber, [change("Modify", "TrackingFunction", "AWS::Lambda::Function", "False")], [])
    stubber.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK_ID})
    events = [  # newest first, over two pages
        event("e4", STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"),
        event("e3", STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
              "The following resource(s) failed to update: [TrackingFunction]."),
        event("e2", "TrackingFunction", "AWS::Lambda::Function", "UPDATE_FAILED",
              "Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey\""),
        event("e1", "TrackingFunction", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS"),
    ]  # fmt: skip
    stubber.add_response("describe_stack_events", {"StackEvents": events[:2], "NextToken": "more"}, {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": events[2:]}, {"StackName": STACK_ID, "NextToken": "more"})
    # WHEN deploying
    with pytest.raises(StackFailed) as failed:
        deployer.deploy(request())
    # THEN exit 1, and the failed resource is printed with its reason (not only the stack's)
    assert failed.value.exit_code == 1
    assert [e.logical_id for e in failed.value.failures] == ["TrackingFunction"]
    err = capsys.readouterr().err
    assert "TrackingFunction (AWS::Lambda::Function) UPDATE_FAILED" in err and "NoSuchKey" in err


def test_rollback_complete_stack_is_deleted_and_created_anew(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # GIVEN a stack whose first create failed (ROLLBACK_COMPLETE)
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"), {"StackName": STACK})
    failed_create = event("e1", STACK, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [failed_create]}, {"StackName": STACK_ID})
    stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
    stubber.add_response("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [failed_create]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": STACK_ID})
    deleted = event("e2", STACK, "AWS::CloudFormation::Stack", "DELETE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [deleted, failed_create]}, {"StackName": STACK_ID})
    new_id = STACK_ID.replace("1a2b3c4d", "5e6f7a8b")
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": new_id},
        {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "Parameters": [],
         "Capabilities": [], "ClientToken": ANY, "Description": ANY, "TemplateBody": ANY,
         "IncludeNestedStacks": True},
    )  # fmt: skip
    stubber.add_response("describe_change_set", {**change_set("CREATE_COMPLETE", [
        change("Add", "Queue", "AWS::SQS::Queue")]), "StackId": new_id}, {"ChangeSetName": CHANGE_SET_ID})  # fmt: skip
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": new_id})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    created = {**stack("CREATE_COMPLETE")["Stacks"][0], "StackId": new_id}
    stubber.add_response("describe_stacks", {"Stacks": [created]}, {"StackName": new_id})
    done = {**event("e3", STACK, "AWS::CloudFormation::Stack", "CREATE_COMPLETE"), "StackId": new_id}
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": new_id})
    result = deployer.deploy(request())
    # THEN the old stack was deleted, a CREATE change set made and the new stack polled by its id
    assert (result.outcome, result.stack_id, result.status) == ("deployed", new_id, "CREATE_COMPLETE")


def test_rollback_complete_stack_is_left_alone_by_no_execute(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # GIVEN a ROLLBACK_COMPLETE stack
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"), {"StackName": STACK})
    # WHEN planning only THEN a clear error, and nothing deleted (no further call)
    with pytest.raises(DeployError, match="without --no-execute deletes it"):
        deployer.deploy(request(execute=False))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
        ("UPDATE_IN_PROGRESS", "another operation is running"),
        ("DELETE_FAILED", "cannot be updated"),
    ],
)
def test_stacks_that_cannot_take_a_change_set_get_a_clear_error_and_no_change_set(
    status: str, expected: str, deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # GIVEN a stack in a state no change set can start from
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack(status), {"StackName": STACK})
    # WHEN deploying THEN a clear error (exit 1) and no further call (the Stubber would fail)
    with pytest.raises(DeployError) as error:
        deployer.deploy(request())
    assert expected in str(error.value) and error.value.exit_code == 1


def test_empty_change_set_reported_as_failed_is_deleted_and_means_no_changes(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN CloudFormation's FAILED change set saying it found nothing to change
    _, stubber = cfn
    reason = ("The submitted information didn't contain changes. Submit different information "
              "to create a change set.")  # fmt: skip
    expect_update_change_set(stubber, [change_set("FAILED", [], reason=reason)])
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying
    result = deployer.deploy(request())
    # THEN no changes, the stack's outputs as they are, and the change set deleted
    assert result.outcome == "no-changes"
    assert f"No changes to deploy. Stack {STACK}" in capsys.readouterr().out


def test_empty_change_set_refused_by_create_change_set_means_no_changes(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN CreateChangeSet's own "No updates are to be performed." error
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs={"QueueUrl": "u"}), {"StackName": STACK})
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    # WHEN deploying
    result = deployer.deploy(request())
    # THEN no changes, nothing to delete, and the existing outputs are returned
    assert (result.outcome, result.outputs) == ("no-changes", {"QueueUrl": "u"})
    assert "No changes to deploy" in capsys.readouterr().out


def test_failed_change_set_for_another_reason_is_a_deploy_failure(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # GIVEN a change set CloudFormation rejects (not an empty one)
    _, stubber = cfn
    expect_update_change_set(stubber, [change_set("FAILED", [], reason="Template error: unresolved Ref")])
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying THEN exit 1 with the reason
    with pytest.raises(DeployError, match="unresolved Ref"):
        deployer.deploy(request())


def test_waiting_too_long_exits_4_and_says_the_stack_may_still_be_changing(
    deployer: Deployer, cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an update that never finishes within the 600 s limit
    _, stubber = cfn
    expect_executed_update(stubber, [change("Modify", "TrackingFunction", "AWS::Lambda::Function", "False")], [])
    # Polls 0, 5, 15, 35, 65, 95, ..., 605 s after executing (delay 5 doubling to a 30 s cap): 23 polls,
    # and the fixture checks that exactly these were made (backoff, no hammering).
    for _ in range(23):
        stubber.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
        stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})

    def command() -> int:
        deployer.deploy(request())
        return 0

    # WHEN deploying
    exit_code = run(command)
    # THEN exit 4 with the warning once the limit has passed
    assert exit_code == 4
    assert "may still be changing" in capsys.readouterr().err
    assert clock.now == 5 + 605  # the change set's one 5 s wait, then the stack's


class CtrlC:
    """A sleep that lets the first N waits pass, then raises KeyboardInterrupt, as Ctrl-C would."""

    def __init__(self, clock: FakeClock, passes: int) -> None:
        self.clock, self.passes = clock, passes

    def __call__(self, seconds: float) -> None:
        if self.passes <= 0:
            raise KeyboardInterrupt
        self.passes -= 1
        self.clock.sleep(seconds)


def _interrupted_deploy(cfn: tuple[Any, Stubber], clock: FakeClock, passes: int) -> int:
    deployer = Deployer(cfn[0], None, Polling(delay=5), Console(), sleep=CtrlC(clock, passes), clock=clock)

    def command() -> int:
        deployer.deploy(request())
        return 0

    return run(command)


def test_ctrl_c_while_the_stack_changes_says_what_carries_on_and_exits_130(
    cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an executed update still in progress
    _, stubber = cfn
    expect_executed_update(stubber, [change("Modify", "TrackingFunction", "AWS::Lambda::Function", "False")], [])
    stubber.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    # WHEN the user presses Ctrl-C while the deploy waits for the stack (the change set's wait passed)
    exit_code = _interrupted_deploy(cfn, clock, passes=1)
    # THEN exit 130 (SIGINT's convention) and, after the progress line, one line: which stack,
    # its state, how to follow it
    err = capsys.readouterr().err
    assert exit_code == 130 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and f"stack {STACK} (UPDATE_IN_PROGRESS)" in last
    assert "carries on" in last and f"describe-stack-events --stack-name {STACK}" in last


def test_ctrl_c_while_the_change_set_is_created_names_the_change_set_left_behind(
    cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a change set still being created
    _, stubber = cfn
    expect_update_change_set(stubber, [])
    # WHEN the user presses Ctrl-C during its first wait
    exit_code = _interrupted_deploy(cfn, clock, passes=0)
    # THEN exit 130, nothing executed, and the change set to delete is named
    err = capsys.readouterr().err
    assert exit_code == 130 and len(err.strip().splitlines()) == 1
    assert "nothing was deployed" in err and f"delete-change-set --change-set-name {CHANGE_SET_ID}" in err
