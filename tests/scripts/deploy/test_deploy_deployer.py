"""Deployer.deploy's composition: the result of each outcome, field by field, and what it prints (Stubber)."""

from __future__ import annotations

import io
import re
from typing import Any

from botocore.stub import ANY, Stubber

from scripts.console import Console
from scripts.deploy.changeset import ChangeSet, ResourceChange
from scripts.deploy.deployer import Deployer, DeployResult, Polling

from .stubbed import (
    CHANGE_SET_ID,
    EXECUTE_PARAMS,
    NOW,
    STACK,
    STACK_ID,
    FakeClock,
    change,
    change_set,
    event,
    expect_update_change_set,
    request,
    stack,
)

ROOT = "AWS::CloudFormation::Stack"
NAME_RE = r"deploy-\d{14}-[0-9a-f]{8}"
QUEUE_ROW = ResourceChange("Add", "Queue", "AWS::SQS::Queue")
EMPTY = "The submitted information didn't contain changes. Submit different information to create a change set."


def _deployer(client: Any, clock: FakeClock, out: io.StringIO) -> Deployer:
    return Deployer(client, None, Polling(delay=5), Console(out=out, err=io.StringIO()), clock.sleep, clock,
                    cli_options=("--region", "eu-west-1"))  # fmt: skip


def _missing(stubber: Stubber) -> None:
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400,
                             expected_params={"StackName": STACK})  # fmt: skip


def _create(stubber: Stubber, status: str, rows: list[dict], reason: str = "", stack_id: str = STACK_ID) -> None:
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": stack_id},
                         {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "Parameters": [],
                          "Capabilities": [], "ClientToken": ANY, "Description": ANY, "TemplateBody": ANY,
                          "IncludeNestedStacks": True})  # fmt: skip
    stubber.add_response("describe_change_set", {**change_set(status, rows, reason=reason), "StackId": stack_id},
                         {"ChangeSetName": CHANGE_SET_ID})  # fmt: skip


def _executed(stubber: Stubber, status: str, stack_id: str = STACK_ID, outputs: dict | None = None) -> None:
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": stack_id})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    final = {**stack(status, outputs=outputs)["Stacks"][0], "StackId": stack_id}
    stubber.add_response("describe_stacks", {"Stacks": [final]}, {"StackName": stack_id})
    done = {**event("e1", STACK, ROOT, status), "StackId": stack_id}
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": stack_id})


def test_the_deployer_builds_its_context_from_what_it_is_handed() -> None:
    s3 = object()
    context = Deployer(cfn=None, s3=s3).context
    assert context.s3 is s3 and isinstance(context.console, Console) and context.polling == Polling()


def test_a_deployed_stack_is_reported_with_its_change_set_and_outputs(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    # GIVEN no stack yet, and a change set that adds a queue
    client, stubber = cfn
    _missing(stubber)
    _create(stubber, "CREATE_COMPLETE", [change("Add", "Queue", "AWS::SQS::Queue")])
    _executed(stubber, "CREATE_COMPLETE", outputs={"QueueUrl": "https://q"})
    out = io.StringIO()
    # WHEN deploying
    result = _deployer(client, clock, out).deploy(request())
    # THEN the result names the stack, its id and state, its outputs and the change set executed
    name = result.change_set.name if result.change_set else ""
    assert re.fullmatch(NAME_RE, name)
    assert result == DeployResult(STACK, STACK_ID, "deployed", "CREATE_COMPLETE", {"QueueUrl": "https://q"},
                                  ChangeSet(CHANGE_SET_ID, STACK_ID, name, "CREATE", "CREATE_COMPLETE", "", (QUEUE_ROW,)))  # fmt: skip
    # AND the plan is headed with the stack's name, and the final state has a line of its own
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Change set {name} (CREATE) for stack {STACK}:"
    assert lines[-1] == f"Stack {STACK}: CREATE_COMPLETE"


def test_a_plan_is_left_for_review_with_the_command_that_applies_it(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    # GIVEN a live stack and --no-execute
    client, stubber = cfn
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Queue", "AWS::SQS::Queue")])])
    out = io.StringIO()
    result = _deployer(client, clock, out).deploy(request(execute=False))
    # THEN nothing executed; the result keeps the stack's state and the change set; the hint reaches the same region
    assert result.change_set is not None
    assert result == DeployResult(STACK, STACK_ID, "not-executed", "UPDATE_COMPLETE", {}, result.change_set)
    assert result.change_set.arn == CHANGE_SET_ID
    assert out.getvalue().splitlines()[-1] == (
        f"Not executed (--no-execute). To apply it: aws cloudformation execute-change-set --change-set-name "
        f"{CHANGE_SET_ID} --region eu-west-1"
    )


def test_a_plan_for_a_new_stack_leaves_it_in_review(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    _missing(stubber)
    _create(stubber, "CREATE_COMPLETE", [change("Add", "Queue", "AWS::SQS::Queue")])
    result = _deployer(client, clock, io.StringIO()).deploy(request(execute=False))
    assert (result.stack_id, result.outcome, result.status, result.outputs) == (
        STACK_ID, "not-executed", "REVIEW_IN_PROGRESS", {})


def test_no_changes_keeps_the_stacks_state_and_outputs(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs={"QueueUrl": "u"}), {"StackName": STACK})
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    out = io.StringIO()
    result = _deployer(client, clock, out).deploy(request())
    assert result.change_set is not None and result.change_set.is_empty
    assert result == DeployResult(STACK, STACK_ID, "no-changes", "UPDATE_COMPLETE", {"QueueUrl": "u"}, result.change_set)
    assert out.getvalue() == f"No changes to deploy. Stack {STACK} is up to date\n"


def test_no_changes_for_a_stack_not_created_yet_has_no_id_state_or_outputs(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    client, stubber = cfn
    _missing(stubber)
    _create(stubber, "FAILED", [], reason=EMPTY)
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    result = _deployer(client, clock, io.StringIO()).deploy(request())
    assert (result.stack_name, result.stack_id, result.outcome, result.status, result.outputs) == (
        STACK, None, "no-changes", None, {})
    assert result.change_set is not None and result.change_set.reason == EMPTY


def _review_stack(stubber: Stubber) -> None:
    stubber.add_response("describe_stacks", stack("REVIEW_IN_PROGRESS"), {"StackName": STACK})
    summary = {"StackId": STACK_ID, "StackName": STACK, "StackStatus": "REVIEW_IN_PROGRESS", "CreationTime": NOW}
    stubber.add_response("list_stacks", {"StackSummaries": [summary]}, {})


def test_a_create_that_made_a_second_stack_removes_the_review_stack_it_replaced(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN a review stack left by a plan, and an emulator that creates the stack under a new id
    client, stubber = cfn
    new_id = STACK_ID.replace("1a2b3c4d", "5e6f7a8b")
    _review_stack(stubber)
    _create(stubber, "CREATE_COMPLETE", [change("Add", "Queue", "AWS::SQS::Queue")], stack_id=new_id)
    _executed(stubber, "CREATE_COMPLETE", stack_id=new_id)
    stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
    out = io.StringIO()
    # WHEN deploying THEN the new stack is the result and the review stack is deleted, by its id
    result = _deployer(client, clock, out).deploy(request())
    assert (result.stack_id, result.status) == (new_id, "CREATE_COMPLETE")
    assert out.getvalue().splitlines()[-1] == f"Removed the orphaned review stack {STACK} ({STACK_ID})"


def test_a_create_into_the_review_stack_itself_deletes_nothing(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    # GIVEN AWS's behaviour: the review stack is reused, same id (no DeleteStack: the Stubber would fail)
    client, stubber = cfn
    _review_stack(stubber)
    _create(stubber, "CREATE_COMPLETE", [change("Add", "Queue", "AWS::SQS::Queue")])
    _executed(stubber, "CREATE_COMPLETE")
    result = _deployer(client, clock, io.StringIO()).deploy(request())
    assert (result.stack_id, result.status) == (STACK_ID, "CREATE_COMPLETE")


def test_single_steps_for_the_bootstrap_command(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    deployer = _deployer(client, clock, io.StringIO())
    stubber.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK_ID})
    found = deployer.describe_stack(STACK_ID)
    assert found is not None and (found.stack_id, found.status) == (STACK_ID, "CREATE_COMPLETE")
    detail = {"LogicalResourceId": "Bucket", "PhysicalResourceId": "artifacts-123", "ResourceType": "AWS::S3::Bucket",
              "LastUpdatedTimestamp": NOW, "ResourceStatus": "CREATE_COMPLETE"}  # fmt: skip
    stubber.add_response("describe_stack_resource", {"StackResourceDetail": detail},
                         {"StackName": STACK, "LogicalResourceId": "Bucket"})  # fmt: skip
    assert deployer.physical_id(STACK, "Bucket") == "artifacts-123"



def test_release_clients_are_not_called_for_a_template_without_a_shifted_alias(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN release clients (each behind a Stubber expecting nothing) and a template with no CodeDeploy alias
    import boto3

    from scripts.deploy.release import ReleaseClients

    client, stubber = cfn
    others = [boto3.client(name, region_name="us-east-1") for name in ("codedeploy", "lambda", "cloudwatch")]
    stubbers = [Stubber(other) for other in others]
    for other_stubber in stubbers:
        other_stubber.activate()
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Queue", "AWS::SQS::Queue")])])
    _executed(stubber, "UPDATE_COMPLETE")
    deployer = Deployer(client, None, Polling(delay=5), Console(out=io.StringIO()), clock.sleep, clock,
                        release=ReleaseClients(*others))  # fmt: skip
    # WHEN deploying (keep_versions unset: nothing to prune) THEN only CloudFormation was called
    assert deployer.deploy(request()).status == "UPDATE_COMPLETE"
