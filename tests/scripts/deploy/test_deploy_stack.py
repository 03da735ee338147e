"""Finding the stack: DescribeStacks read into a StackInfo, a missing stack told apart, review stacks cleared."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from scripts.console import Console
from scripts.deploy.context import Context
from scripts.deploy.stack import StackInfo, describe_stack, find_stack, physical_id, stacks_named

from .stubbed import NOW, STACK, STACK_ID, FakeClock, stack


def _context(client: Any, out: io.StringIO | None = None) -> Context:
    clock = FakeClock()
    return Context(client, console=Console(out=out or io.StringIO()), sleep=clock.sleep, clock=clock)


def test_a_full_description_is_read_field_by_field() -> None:
    item = {
        "StackId": STACK_ID, "StackName": STACK, "StackStatus": "UPDATE_ROLLBACK_COMPLETE", "CreationTime": NOW,
        "Parameters": [{"ParameterKey": "Environment", "ParameterValue": "prod"}, {"ParameterKey": "Secret"}],
        "Outputs": [{"OutputKey": "ApiEndpoint", "OutputValue": "https://x"}, {"OutputKey": "Empty"}],
        "StackStatusReason": "Rollback requested by user.", "EnableTerminationProtection": True,
    }  # fmt: skip
    assert StackInfo.from_api(item) == StackInfo(
        stack_id=STACK_ID, name=STACK, status="UPDATE_ROLLBACK_COMPLETE",
        parameters=frozenset({"Environment", "Secret"}),
        outputs={"ApiEndpoint": "https://x", "Empty": ""},
        reason="Rollback requested by user.",
        parameter_values={"Environment": "prod", "Secret": ""},
        termination_protection=True,
    )  # fmt: skip


def test_a_bare_description_gets_empty_defaults() -> None:
    bare = {"StackId": STACK_ID, "StackName": STACK, "StackStatus": "CREATE_COMPLETE", "StackStatusReason": None}
    assert StackInfo.from_api(bare) == StackInfo(STACK_ID, STACK, "CREATE_COMPLETE", frozenset(), {}, "", {}, False)


@pytest.mark.parametrize(
    ("status", "in_progress"),
    [("UPDATE_IN_PROGRESS", True), ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", True), ("REVIEW_IN_PROGRESS", True),
     ("UPDATE_COMPLETE", False), ("IN_PROGRESS_FAILED", False)],
)  # fmt: skip
def test_in_progress_is_any_status_ending_so(status: str, in_progress: bool) -> None:
    assert StackInfo(STACK_ID, STACK, status).in_progress is in_progress


def test_a_missing_stack_is_none_and_other_validation_errors_are_raised(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400,
                             expected_params={"StackName": STACK})  # fmt: skip
    assert describe_stack(_context(client), STACK) is None
    # the same words under another code, or another ValidationError, are not "missing"
    stubber.add_client_error("describe_stacks", "AccessDenied", f"Stack with id {STACK} does not exist", 403)
    with pytest.raises(ClientError, match="AccessDenied"):
        describe_stack(_context(client), STACK)
    stubber.add_client_error("describe_stacks", "ValidationError", "1 validation error detected: StackName", 400)
    with pytest.raises(ClientError, match="1 validation error"):
        describe_stack(_context(client), STACK)
    # and an answer listing no stack is no stack
    stubber.add_response("describe_stacks", {"Stacks": []}, {"StackName": STACK})
    assert describe_stack(_context(client), STACK) is None
    stubber.add_response("describe_stacks", {}, {"StackName": STACK})
    assert describe_stack(_context(client), STACK) is None


def test_a_live_stack_is_found_with_no_further_call(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    found = find_stack(_context(client), STACK)
    assert found is not None and (found.stack_id, found.status) == (STACK_ID, "UPDATE_COMPLETE")


def _summary(stack_id: str, name: str, status: str) -> dict[str, Any]:
    return {"StackId": stack_id, "StackName": name, "StackStatus": status, "CreationTime": NOW}


def test_only_this_names_stacks_that_still_exist_are_listed(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    ids = [STACK_ID.replace("1a2b3c4d", f"{n:08d}") for n in range(4)]
    stubber.add_response("list_stacks", {"StackSummaries": [
        _summary(ids[0], STACK, "REVIEW_IN_PROGRESS"), _summary(ids[1], "other", "CREATE_COMPLETE"),
        _summary(ids[2], STACK, "DELETE_COMPLETE"), _summary(ids[3], STACK, "DELETE_FAILED")]}, {})  # fmt: skip
    assert [s["StackId"] for s in stacks_named(_context(client), STACK)] == [ids[0], ids[3]]


def test_every_review_stack_beside_the_live_one_is_removed(cfn: tuple[Any, Stubber]) -> None:
    # GIVEN DescribeStacks by name answering with a review stack, two review stacks and a live one listed
    client, stubber = cfn
    first, second, live = (STACK_ID.replace("1a2b3c4d", p) for p in ("aaaa0000", "cccc0000", "bbbb0000"))
    review = {**stack("REVIEW_IN_PROGRESS")["Stacks"][0], "StackId": first}
    stubber.add_response("describe_stacks", {"Stacks": [review]}, {"StackName": STACK})
    stubber.add_response("list_stacks", {"StackSummaries": [
        _summary(first, STACK, "REVIEW_IN_PROGRESS"), _summary(live, STACK, "UPDATE_ROLLBACK_COMPLETE"),
        _summary(second, STACK, "REVIEW_IN_PROGRESS")]}, {})  # fmt: skip
    stubber.add_response("delete_stack", {}, {"StackName": first, "ClientRequestToken": ANY})
    stubber.add_response("delete_stack", {}, {"StackName": second, "ClientRequestToken": ANY})
    stubber.add_response("describe_stacks", {"Stacks": [{**stack("UPDATE_ROLLBACK_COMPLETE")["Stacks"][0],
                                                         "StackId": live}]}, {"StackName": live})  # fmt: skip
    out = io.StringIO()
    # WHEN finding the stack THEN the live one, both review stacks deleted, each named once
    found = find_stack(_context(client, out), STACK)
    assert found is not None and found.stack_id == live
    assert out.getvalue() == (
        f"Removed the orphaned review stack {STACK} ({first})\nRemoved the orphaned review stack {STACK} ({second})\n"
    )


def test_a_deletion_token_is_fresh_for_each_review_stack(cfn: tuple[Any, Stubber]) -> None:
    from scripts.deploy.stack import remove_review_stack

    client, stubber = cfn
    tokens: list[str] = []
    client.meta.events.register("provide-client-params.cloudformation.DeleteStack",
                                lambda params, **_: tokens.append(params["ClientRequestToken"]))  # fmt: skip
    for _ in range(2):
        stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
        remove_review_stack(_context(client), STACK_ID, STACK)
    assert len(set(tokens)) == 2 and all(t.startswith("deploy-") and len(t) <= 128 for t in tokens)


def test_physical_ids_are_read_from_the_resource(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    detail = {"LogicalResourceId": "Table", "PhysicalResourceId": "tracking-prod-table", "ResourceType":
              "AWS::DynamoDB::Table", "LastUpdatedTimestamp": NOW, "ResourceStatus": "CREATE_COMPLETE"}  # fmt: skip
    stubber.add_response("describe_stack_resource", {"StackResourceDetail": detail},
                         {"StackName": STACK, "LogicalResourceId": "Table"})  # fmt: skip
    assert physical_id(_context(client), STACK, "Table") == "tracking-prod-table"
