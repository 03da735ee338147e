"""Creating, waiting for and reading a change set, step by step: the exact calls and records (Stubber)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from scripts.console import Console
from scripts.deploy.changeset import (
    ChangeSet,
    ResourceChange,
    create_change_set,
    parameter_list,
    s3_https_url,
    show_change_set,
    template_arguments,
    wait_for_change_set,
)
from scripts.deploy.context import Context, Polling
from scripts.deploy.request import DeployRequest
from scripts.deploy.stack import StackInfo
from scripts.deploy.template import TEMPLATE_BODY_LIMIT, StackTemplate
from scripts.errors import DeployTimeout, UsageError

from ..deploy_support import queue_template
from .stubbed import (
    CHANGE_SET_ID,
    REGION,
    STACK,
    STACK_ID,
    FakeClock,
    change,
    change_set,
    request,
)

NAME_RE = r"deploy-\d{14}-[0-9a-f]{8}"
# An update without alarms to watch says so (left out, CloudFormation would reuse the stack's saved triggers).
NO_TRIGGERS = {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
LIVE = StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE", parameters=frozenset({"QueueName"}),
                 parameter_values={"QueueName": "orders"})  # fmt: skip
REVIEW = StackInfo(STACK_ID, STACK, "REVIEW_IN_PROGRESS", parameters=frozenset({"QueueName"}))
# Alarms the rollback triggers would look for: reached only by an UPDATE of a live stack.
ALARM_TEMPLATE = StackTemplate.from_text(json.dumps({
    "Parameters": {"QueueName": {"Type": "String", "Default": "orders"}},
    "Resources": {"Api5xx": {"Type": "AWS::CloudWatch::Alarm",
                             "Properties": {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"}}},
}))  # fmt: skip


class Recorder(FakeClock):
    """A fake clock that also keeps every delay the code asked to sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


class Terminal(io.StringIO):
    """Captured output that says it is a terminal (so the table is coloured)."""

    def isatty(self) -> bool:
        return True


def _context(client: Any, clock: FakeClock, s3: Any = None, console: Console | None = None,
             polling: Polling | None = None) -> Context:  # fmt: skip
    return Context(client, s3, polling or Polling(delay=5, backoff=2, max_delay=30, timeout=600),
                   console or Console(), clock.sleep, clock)  # fmt: skip


def _create_params(change_set_type: str, parameters: list[dict], **more: Any) -> dict[str, Any]:
    """CreateChangeSet's exact arguments (the template inline unless MORE says otherwise)."""
    return {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": change_set_type, "Parameters": parameters,
            "Capabilities": [], "ClientToken": ANY, "Description": "Created by python -m scripts.deploy",
            "IncludeNestedStacks": True, **({"TemplateBody": ANY} if "TemplateURL" not in more else {}), **more}  # fmt: skip


def test_an_update_sends_given_values_previous_values_and_sorted_tags(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN a live stack, one parameter given and one left to its previous value, and two tags
    client, stubber = cfn
    template = StackTemplate.from_text(queue_template(Extra="x"))
    live = StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE", parameters=frozenset({"QueueName", "Extra"}))
    given = [{"ParameterKey": "Extra", "UsePreviousValue": True},
             {"ParameterKey": "QueueName", "ParameterValue": "orders-2"}]  # fmt: skip
    tags = [{"Key": "app", "Value": "tracking"}, {"Key": "team", "Value": "logistics"}]
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         _create_params("UPDATE", given, Tags=tags, RollbackConfiguration=NO_TRIGGERS))  # fmt: skip
    stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", [change("Modify", "Queue", "AWS::SQS::Queue")]),
                         {"ChangeSetName": CHANGE_SET_ID})  # fmt: skip
    # WHEN creating the change set
    created = create_change_set(
        _context(client, clock),
        request(template=template, parameters={"QueueName": "orders-2"}, tags={"team": "logistics", "app": "tracking"}),
        "UPDATE", live,
    )  # fmt: skip
    # THEN the record says what CloudFormation answered, rows read from the top-level change set as they are
    assert re.fullmatch(NAME_RE, created.name)
    assert (created.arn, created.stack_id, created.change_set_type, created.status, created.reason) == (
        CHANGE_SET_ID, STACK_ID, "UPDATE", "CREATE_COMPLETE", "")
    assert created.changes == (ResourceChange("Modify", "Queue", "AWS::SQS::Queue", "False"),)


def test_a_create_into_a_review_stack_asks_for_no_rollback_triggers(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    # GIVEN a review stack (a plan left behind) and a template with a 5XX alarm
    client, stubber = cfn
    new_id = STACK_ID.replace("1a2b3c4d", "5e6f7a8b")
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": new_id}, _create_params("CREATE", []))
    described = change_set("CREATE_COMPLETE", [])
    del described["StackId"]
    stubber.add_response("describe_change_set", described, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN creating THEN no ListStackResources (a stack being created has no alarms yet), no
    # RollbackConfiguration, and no previous values (a CREATE has none, whatever the review stack says)
    created = create_change_set(_context(client, clock), request(template=ALARM_TEMPLATE), "CREATE", REVIEW)
    assert (created.change_set_type, created.changes) == ("CREATE", ())
    # AND the stack is the one CreateChangeSet named (its description left it out), not the review stack
    assert created.stack_id == new_id


@pytest.mark.parametrize(("stack", "stack_id"), [(LIVE, STACK_ID), (None, "")])
def test_no_updates_from_create_change_set_is_an_empty_change_set_with_nothing_to_delete(
    stack: StackInfo | None, stack_id: str, cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    client, stubber = cfn
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    created = create_change_set(_context(client, clock), request(), "UPDATE", stack)
    assert re.fullmatch(NAME_RE, created.name)
    assert created == ChangeSet("", stack_id, created.name, "UPDATE", "FAILED", "No updates are to be performed.", ())
    assert created.is_empty


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationError", "Template format error: Unresolved resource dependencies [Nope]"),
        # the "empty" wording under another code is not CloudFormation's no-op answer
        ("Throttling", "No updates are to be performed."),
    ],
)
def test_other_create_change_set_errors_are_raised(code: str, message: str, cfn: tuple[Any, Stubber],
                                                   clock: FakeClock) -> None:  # fmt: skip
    client, stubber = cfn
    stubber.add_client_error("create_change_set", code, message, 400)
    with pytest.raises(ClientError, match=re.escape(message)):
        create_change_set(_context(client, clock), request(), "UPDATE", LIVE)


def test_parameters_left_out_take_the_stacks_previous_value_only_on_update() -> None:
    template = StackTemplate.from_text(json.dumps({
        "Parameters": {"QueueName": {"Type": "String"}, "Region": {"Type": "String"}, "Size": {"Type": "String", "Default": "1"}},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
    }))  # fmt: skip
    given = DeployRequest(STACK, template, parameters={"Region": "eu"})
    live = StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE", parameters=frozenset({"QueueName", "Size"}))
    # An update: given values as given, the rest from the stack (Size too: the stack's, not the default)
    assert parameter_list(given, "UPDATE", live) == [
        {"ParameterKey": "QueueName", "UsePreviousValue": True},
        {"ParameterKey": "Region", "ParameterValue": "eu"},
        {"ParameterKey": "Size", "UsePreviousValue": True},
    ]
    # A create (even into a review stack that lists them): every value without a default is needed
    review = StackInfo(STACK_ID, STACK, "REVIEW_IN_PROGRESS", parameters=frozenset({"QueueName", "Region"}))
    with pytest.raises(UsageError) as refused:
        parameter_list(DeployRequest(STACK, template), "CREATE", review)
    assert str(refused.value) == (
        "no value for QueueName, Region (no default in the template, no previous value in the stack): "
        "pass --parameter-overrides QueueName=... Region=..."
    )
    # A parameter the stack does not have yet gets its default on update
    assert parameter_list(DeployRequest(STACK, template, parameters={"QueueName": "q", "Region": "eu"}), "UPDATE",
                          StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE")) == [
        {"ParameterKey": "QueueName", "ParameterValue": "q"}, {"ParameterKey": "Region", "ParameterValue": "eu"}]  # fmt: skip


BIG = StackTemplate.from_text(queue_template(padding=TEMPLATE_BODY_LIMIT))


@pytest.mark.parametrize(
    ("bucket", "with_s3"),
    [(None, True), ("artifacts", False), (None, False)],
)
def test_a_template_too_big_for_template_body_needs_an_artifact_bucket(bucket: str | None, with_s3: bool,
                                                                       clock: FakeClock) -> None:  # fmt: skip
    s3 = boto3.client("s3", region_name=REGION) if with_s3 else None
    with pytest.raises(UsageError) as refused:
        template_arguments(_context(None, clock, s3=s3), BIG, DeployRequest(STACK, BIG, artifact_bucket=bucket))
    assert str(refused.value) == (
        f"the template is {BIG.size:,} bytes, over CloudFormation's 51,200-byte TemplateBody limit: "
        "it must go through S3, so an artifact bucket is needed"
    )


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [("", "templates"), ("/Xfiles/app/", "Xfiles/app/templates"), ("team", "team/templates")],
)
def test_a_big_template_is_uploaded_by_its_hash_and_sent_as_its_url(
    prefix: str, folder: str, cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN a template over the TemplateBody limit, an artifact bucket (and prefix) in eu-west-1
    client, stubber = cfn
    s3 = boto3.client("s3", region_name="eu-west-1")
    key = f"{folder}/{BIG.sha256}.json"
    body = BIG.body.encode("utf-8")
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    url = f"https://artifacts.s3.eu-west-1.amazonaws.com/{key}"
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         _create_params("CREATE", [], TemplateURL=url))  # fmt: skip
    stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", []), {"ChangeSetName": CHANGE_SET_ID})
    with Stubber(s3) as s3_stubber:
        s3_stubber.add_client_error("head_object", "404", "Not Found", 404,
                                    expected_params={"Bucket": "artifacts", "Key": key, "ChecksumMode": "ENABLED"})  # fmt: skip
        s3_stubber.add_response("put_object", {"ChecksumSHA256": checksum},
                                {"Bucket": "artifacts", "Key": key, "Body": body, "ContentType": "application/json",
                                 "ChecksumAlgorithm": "SHA256", "ChecksumSHA256": checksum})  # fmt: skip
        # WHEN creating the change set
        big_request = DeployRequest(STACK, BIG, artifact_bucket="artifacts", artifact_prefix=prefix)
        create_change_set(_context(client, clock, s3=s3), big_request, "CREATE", None)
        # THEN the body went to s3://artifacts/<prefix>/templates/<sha256>.json and CloudFormation got its URL
        s3_stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu-west-1", "https://b.s3.eu-west-1.amazonaws.com/k/t.json"),
        ("cn-north-1", "https://b.s3.cn-north-1.amazonaws.com.cn/k/t.json"),
    ],
)
def test_template_urls_are_virtual_hosted_in_the_buckets_partition(region: str, expected: str) -> None:
    assert s3_https_url(boto3.client("s3", region_name=region), "b", "k/t.json") == expected


def test_waiting_backs_off_to_the_ceiling_and_reads_every_page(cfn: tuple[Any, Stubber]) -> None:
    # GIVEN a change set pending for four polls, then complete on two pages, the second without rows
    client, stubber = cfn
    recorder = Recorder()
    for _ in range(4):
        stubber.add_response("describe_change_set", change_set("CREATE_IN_PROGRESS", []), {"ChangeSetName": CHANGE_SET_ID})
    first = change_set("CREATE_COMPLETE", [change("Add", "Queue", "AWS::SQS::Queue")], next_token="p2")
    del first["StackId"]
    stubber.add_response("describe_change_set", first, {"ChangeSetName": CHANGE_SET_ID})
    last = change_set("CREATE_COMPLETE", [])
    del last["Changes"]
    stubber.add_response("describe_change_set", last, {"ChangeSetName": CHANGE_SET_ID, "NextToken": "p2"})
    # WHEN waiting for it
    ready = wait_for_change_set(_context(client, recorder), CHANGE_SET_ID, "stack-from-create", "deploy-1", "CREATE")
    # THEN delays of 5 s doubling to the 30 s ceiling, and a record of what was answered
    assert recorder.sleeps == [5, 10, 20, 30]
    # (no StackId in the description: the one CreateChangeSet gave; no StatusReason: empty)
    assert ready == ChangeSet(CHANGE_SET_ID, "stack-from-create", "deploy-1", "CREATE", "CREATE_COMPLETE", "",
                              (ResourceChange("Add", "Queue", "AWS::SQS::Queue"),))  # fmt: skip


def test_the_change_sets_own_description_names_its_stack(cfn: tuple[Any, Stubber], clock: FakeClock) -> None:
    client, stubber = cfn
    stubber.add_response("describe_change_set", change_set("FAILED", [], reason="Template error: x"),
                         {"ChangeSetName": CHANGE_SET_ID})  # fmt: skip
    failed = wait_for_change_set(_context(client, clock), CHANGE_SET_ID, "other-id", "deploy-1", "UPDATE")
    assert (failed.stack_id, failed.status, failed.reason, failed.changes) == (STACK_ID, "FAILED", "Template error: x", ())


def test_waiting_stops_only_once_past_the_deadline(cfn: tuple[Any, Stubber]) -> None:
    # GIVEN polls every 5 s and a 10 s limit: the polls at 0, 5 and 10 s are within it, 15 s is not
    client, stubber = cfn
    recorder = Recorder()
    for _ in range(4):
        stubber.add_response("describe_change_set", change_set("CREATE_PENDING", []), {"ChangeSetName": CHANGE_SET_ID})
    context = _context(client, recorder, polling=Polling(delay=5, backoff=1, max_delay=5, timeout=10))
    with pytest.raises(DeployTimeout) as timed_out:
        wait_for_change_set(context, CHANGE_SET_ID, STACK_ID, "deploy-1", "UPDATE")
    assert str(timed_out.value) == "change set deploy-1 was still CREATE_PENDING when waiting timed out"
    assert (recorder.sleeps, recorder.now) == ([5, 5, 5], 15)


@pytest.mark.parametrize("terminal", [False, True])
def test_the_plan_is_a_heading_then_the_table_coloured_on_a_terminal(terminal: bool, clock: FakeClock) -> None:
    out = Terminal() if terminal else io.StringIO()
    rows = (ResourceChange("Modify", "Orders", "AWS::DynamoDB::Table", "True"),)
    plan = ChangeSet(CHANGE_SET_ID, STACK_ID, "deploy-1", "UPDATE", "CREATE_COMPLETE", "", rows)
    show_change_set(_context(None, clock, console=Console(out=out)), plan, STACK)
    heading, table = out.getvalue().split("\n", 1)
    assert heading == f"Change set deploy-1 (UPDATE) for stack {STACK}:"
    red = "\033[1;31mModify  Orders      AWS::DynamoDB::Table  True (REPLACES)\033[0m"
    assert (red in table) is terminal
