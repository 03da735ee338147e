"""The deployer's protections where moto cannot show them: Stubber, responses shaped like AWS's."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from scripts.cli import run
from scripts.console import Console
from scripts.deploy.deployer import Deployer, Polling, StackFailed
from scripts.deploy.protection import ALLOW_ALL_POLICY, stack_policy
from scripts.deploy.template import StackTemplate
from scripts.errors import DeployError, ReplacementRefused, UsageError

from .stubbed import (
    ACCOUNT,
    CHANGE_SET_ID,
    EXECUTE_PARAMS,
    REGION,
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

NESTED_CHANGE_SET_ID = CHANGE_SET_ID.replace("deploy-1", "deploy-1-Inner")
ROOT = "AWS::CloudFormation::Stack"
CREATE_PARAMS = {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": ANY, "Parameters": ANY,
                 "Capabilities": ANY, "ClientToken": ANY, "Description": ANY, "TemplateBody": ANY,
                 "IncludeNestedStacks": True}  # fmt: skip
# The configuration that clears triggers saved on the stack: with RollbackConfiguration left out,
# CloudFormation reuses the stack's saved triggers, and an update fails once one of them is gone.
NO_TRIGGERS = {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}


def _template(resources: dict) -> StackTemplate:
    return StackTemplate.from_text(json.dumps({"Resources": resources}))


TABLE_TEMPLATE = _template({
    "Orders": {"Type": "AWS::DynamoDB::Table"},
    "Api5xx": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"}},
    "FnErrors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}},
    "FnThrottles": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/Lambda", "MetricName": "Throttles"}},
})  # fmt: skip


def _resource(logical_id: str, resource_type: str, physical_id: str) -> dict[str, Any]:
    return {"LogicalResourceId": logical_id, "PhysicalResourceId": physical_id, "ResourceType": resource_type,
            "LastUpdatedTimestamp": stack("X")["Stacks"][0]["CreationTime"], "ResourceStatus": "CREATE_COMPLETE"}  # fmt: skip


def _finish(stubber: Stubber, status: str = "UPDATE_COMPLETE", stack_id: str = STACK_ID, protected: bool = False) -> None:
    """The stack's last poll: the final status and the root stack's own terminal event."""
    final = {**stack(status)["Stacks"][0], "StackId": stack_id, "EnableTerminationProtection": protected}
    stubber.add_response("describe_stacks", {"Stacks": [final]}, {"StackName": stack_id})
    done = {**event(f"done-{status}", STACK, ROOT, status), "StackId": stack_id}
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": stack_id})


def test_guard_walks_nested_change_sets_and_refuses_a_table_replaced_inside(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a change set whose only row is a nested stack, whose own change set replaces a table
    _, stubber = cfn
    nested_row = change("Modify", "Inner", ROOT, "False")
    nested_row["ResourceChange"]["ChangeSetId"] = NESTED_CHANGE_SET_ID
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [nested_row])])
    inner = change_set("CREATE_COMPLETE", [change("Modify", "Orders", "AWS::DynamoDB::Table", "True")], next_token="p2")
    stubber.add_response("describe_change_set", inner, {"ChangeSetName": NESTED_CHANGE_SET_ID})
    second = change_set("CREATE_COMPLETE", [change("Modify", "Key", "AWS::KMS::Key", "False")])
    stubber.add_response("describe_change_set", second, {"ChangeSetName": NESTED_CHANGE_SET_ID, "NextToken": "p2"})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying THEN refused (exit 3), naming the table by its path through the stacks
    with pytest.raises(ReplacementRefused, match=r"Inner/Orders \(AWS::DynamoDB::Table: replacement True\)"):
        deployer.deploy(request())
    # AND the plan shows the nested rows on every page
    out = capsys.readouterr().out
    assert "Inner/Orders" in out and "Inner/Key" in out


def test_a_retained_removal_and_a_dynamic_change_are_both_refused_saying_what_becomes_of_each(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # Changed in issue 19: a Retain'ed removal used to pass, but the stack then lost the queue
    # (orphaned outside it) and a later deploy would make a new, empty one.
    # GIVEN a change set that removes a queue (PolicyAction Retain), changes a table
    # Dynamically, replaces another keeping the old one (ReplaceAndRetain) and removes a table
    # whose DeletionPolicy is Snapshot (DynamoDB cannot snapshot: deleted), an RDS instance
    # likewise (snapshotted, still gone), and a nested stack (no change set of its own to walk)
    _, stubber = cfn
    rows = [change("Remove", "OldQueue", "AWS::SQS::Queue"), change("Dynamic", "Orders", "AWS::DynamoDB::Table"),
            change("Modify", "State", "AWS::DynamoDB::Table", "True"), change("Remove", "Archive", "AWS::DynamoDB::Table"),
            change("Remove", "Db", "AWS::RDS::DBInstance"), change("Remove", "Inner", ROOT)]  # fmt: skip
    for row, policy in zip(rows, ["Retain", None, "ReplaceAndRetain", "Snapshot", "Snapshot"]):
        if policy:
            row["ResourceChange"]["PolicyAction"] = policy
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", rows)])
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying THEN all are refused (exit 3), each with what would become of it
    with pytest.raises(ReplacementRefused) as refused:
        deployer.deploy(request())
    assert refused.value.exit_code == 3
    assert str(refused.value) == (
        "the change set would replace or remove stateful resources: "
        "OldQueue (AWS::SQS::Queue: removed; Retain: left outside the stack, orphaned), "
        "Orders (AWS::DynamoDB::Table: Dynamic: CloudFormation cannot tell what will happen), "
        "State (AWS::DynamoDB::Table: replacement True; ReplaceAndRetain: the stack points at a new, empty one, "
        "the old one left outside the stack, orphaned), "
        "Archive (AWS::DynamoDB::Table: removed; Snapshot: deleted, AWS::DynamoDB::Table cannot be snapshotted), "
        "Db (AWS::RDS::DBInstance: removed; Snapshot: deleted after a snapshot), "
        "Inner (AWS::CloudFormation::Stack: removed). "
        "Nothing changed: the change set was deleted. Re-run with --allow-replacement if the data loss is intended"
    )


def test_a_stale_terminal_status_does_not_end_the_wait(
    deployer: Deployer, cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN DescribeStacks answering with the status from before the execute (UPDATE_COMPLETE),
    # then the update running, then done with the root stack's own terminal event
    _, stubber = cfn
    previous = event("e0", STACK, ROOT, "UPDATE_COMPLETE")
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Fn", "AWS::Lambda::Function")])])
    stubber.add_response("describe_stack_events", {"StackEvents": [previous]}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [previous]}, {"StackName": STACK_ID})
    started = event("e1", STACK, ROOT, "UPDATE_IN_PROGRESS")
    resource_done = event("e2", "Fn", "AWS::Lambda::Function", "UPDATE_COMPLETE")
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [resource_done, started, previous]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    done = event("e3", STACK, ROOT, "UPDATE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [done, resource_done, started, previous]}, {"StackName": STACK_ID})
    # WHEN deploying THEN it waits through the stale answer and a resource's terminal event
    # (3 polls, the fixture checks every response was used) and ends on the root stack's event
    result = deployer.deploy(request())
    assert (result.outcome, result.status) == ("deployed", "UPDATE_COMPLETE")


@pytest.mark.parametrize(
    ("status", "advice", "not_said"),
    [
        ("UPDATE_FAILED", "roll it back with `aws cloudformation rollback-stack --stack-name tracking-prod "
                          "--region eu-west-1 --endpoint-url http://127.0.0.1:5000`", "delete"),
        ("CREATE_FAILED", "aws cloudformation rollback-stack --stack-name tracking-prod", "delete"),
        ("UPDATE_ROLLBACK_FAILED", "aws cloudformation continue-update-rollback --stack-name tracking-prod "
                                   "--region eu-west-1", "rollback-stack"),
        ("ROLLBACK_FAILED", "delete it", "rollback-stack"),
        ("DELETE_FAILED", "delete it", "rollback-stack"),
        # An import's failed rollback leaves the stack's own resources (tables) in it: never "delete it"
        ("IMPORT_ROLLBACK_FAILED", "stack tracking-prod is IMPORT_ROLLBACK_FAILED: an import of existing resources "
                                   "failed and so did its rollback; the stack still holds its own resources (its "
                                   "tables too), so do not delete it. Find the resources that failed with `aws "
                                   "cloudformation describe-stack-events --stack-name tracking-prod --region "
                                   "eu-west-1 --endpoint-url http://127.0.0.1:5000`", "keeping any resources"),
        ("IMPORT_IN_PROGRESS", "another operation is running", "delete"),
        ("IMPORT_ROLLBACK_IN_PROGRESS", "another operation is running", "delete"),
    ],
)
def test_each_stuck_state_gets_its_own_recovery(
    status: str, advice: str, not_said: str, cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    # GIVEN a stack paused or failed in STATUS, and a deploy given --region and --endpoint-url
    client, stubber = cfn
    options = ("--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:5000")
    deployer = Deployer(client, None, Polling(delay=5), Console(), clock.sleep, clock, cli_options=options)
    stubber.add_response("describe_stacks", stack(status), {"StackName": STACK})
    # WHEN deploying THEN exit 1 with the recovery that fits, as a command for the same endpoint
    with pytest.raises(DeployError) as error:
        deployer.deploy(request())
    message = str(error.value)
    assert error.value.exit_code == 1 and advice in message and not_said not in message


def test_live_stack_is_never_moved_to_another_environment(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    # GIVEN a live stack of environment "dev"
    _, stubber = cfn
    live = stack("UPDATE_COMPLETE")
    live["Stacks"][0]["Parameters"] = [{"ParameterKey": "Environment", "ParameterValue": "dev"}]
    stubber.add_response("describe_stacks", live, {"StackName": STACK})
    template = StackTemplate.from_text(json.dumps({"Parameters": {"Environment": {"Type": "String"}},
                                                   "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))  # fmt: skip
    # WHEN deploying environment "prod" to it THEN exit 2 before any change set, naming both
    with pytest.raises(UsageError) as refused:
        deployer.deploy(request(template=template, parameters={"Environment": "prod"},
                                pinned_parameters=("Environment",)))  # fmt: skip
    assert str(refused.value) == (
        "stack tracking-prod is Environment='dev', not 'prod': moving a live stack to another Environment "
        "would replace every named resource; deploy Environment='prod' to its own stack (another --stack-name)"
    )


def test_a_noecho_pinned_parameter_is_refused_without_its_values(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    _, stubber = cfn
    live = stack("UPDATE_COMPLETE")
    live["Stacks"][0]["Parameters"] = [{"ParameterKey": "Secret", "ParameterValue": "****"}]
    stubber.add_response("describe_stacks", live, {"StackName": STACK})
    template = StackTemplate.from_text(json.dumps({"Parameters": {"Secret": {"Type": "String", "NoEcho": True}},
                                                   "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))  # fmt: skip
    with pytest.raises(UsageError) as refused:
        deployer.deploy(request(template=template, parameters={"Secret": "hunter2"}, pinned_parameters=("Secret",)))
    assert "hunter2" not in str(refused.value) and "****" not in str(refused.value)
    assert str(refused.value) == (
        "stack tracking-prod: refusing to change its Secret (NoEcho): every named resource would be "
        "replaced; deploy the new value to its own stack (another --stack-name)"
    )


def _expect_create(stubber: Stubber, changes: list[dict]) -> None:
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400)
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID}, CREATE_PARAMS)
    stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes), {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)


def test_first_create_of_prod_sets_the_table_policy_and_termination_protection(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no stack yet, a template with a table, and prod's settings
    _, stubber = cfn
    _expect_create(stubber, [change("Add", "Orders", "AWS::DynamoDB::Table")])
    _finish(stubber, "CREATE_COMPLETE")
    policy = stack_policy(TABLE_TEMPLATE)
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": policy})
    stubber.add_response("update_termination_protection", {"StackId": STACK_ID},
                         {"StackName": STACK_ID, "EnableTerminationProtection": True})  # fmt: skip
    # WHEN deploying
    result = deployer.deploy(request(template=TABLE_TEMPLATE, termination_protection=True))
    # THEN created, its table protected by the stack policy, the stack by termination protection
    assert result.status == "CREATE_COMPLETE"
    assert f"Termination protection enabled on stack {STACK}" in capsys.readouterr().out


def test_an_endpoint_without_termination_protection_only_warns(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    _, stubber = cfn
    _expect_create(stubber, [change("Add", "Q", "AWS::SQS::Queue")])
    _finish(stubber, "CREATE_COMPLETE")
    stubber.add_client_error("update_termination_protection", "InvalidAction", "not supported", 400)
    result = deployer.deploy(request(termination_protection=True))
    assert result.status == "CREATE_COMPLETE"
    assert "does not support UpdateTerminationProtection" in capsys.readouterr().err


def test_termination_protection_errors_other_than_unsupported_are_raised(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    _, stubber = cfn
    _expect_create(stubber, [change("Add", "Q", "AWS::SQS::Queue")])
    _finish(stubber, "CREATE_COMPLETE")
    stubber.add_client_error("update_termination_protection", "AccessDenied", "not allowed", 403)
    with pytest.raises(Exception, match="AccessDenied"):
        deployer.deploy(request(termination_protection=True))


def _expect_update_with_triggers(stubber: Stubber, minutes: int, changes: list[dict]) -> None:
    live = stack("UPDATE_COMPLETE")
    live["Stacks"][0]["EnableTerminationProtection"] = True
    stubber.add_response("describe_stacks", live, {"StackName": STACK})
    resources = [
        _resource("Api5xx", "AWS::CloudWatch::Alarm", "tracking-api-5xx-prod"),
        _resource("FnThrottles", "AWS::CloudWatch::Alarm", "tracking-lambda-throttle-prod"),
        _resource("Orders", "AWS::DynamoDB::Table", "orders-prod"),
    ]
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": resources[:1], "NextToken": "n"},
                         {"StackName": STACK_ID})  # fmt: skip
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": resources[1:], "NextToken": "m"},
                         {"StackName": STACK_ID, "NextToken": "n"})  # fmt: skip
    stubber.add_response("list_stack_resources", {}, {"StackName": STACK_ID, "NextToken": "m"})
    rollback = {
        "RollbackTriggers": [{"Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tracking-api-5xx-prod",
                              "Type": "AWS::CloudWatch::Alarm"}],
        "MonitoringTimeInMinutes": minutes,
    }  # fmt: skip
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         {**CREATE_PARAMS, "ChangeSetType": "UPDATE", "RollbackConfiguration": rollback})  # fmt: skip
    stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes), {"ChangeSetName": CHANGE_SET_ID})


def test_updates_carry_the_existing_5xx_and_error_alarms_as_rollback_triggers(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live, protected stack that has the 5XX alarm (the errors alarm is new in this
    # template, so it does not exist yet) and prod's 5 minutes of monitoring
    _, stubber = cfn
    _expect_update_with_triggers(stubber, 5, [change("Modify", "Orders", "AWS::DynamoDB::Table", "False")])
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    _finish(stubber, protected=True)
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": stack_policy(TABLE_TEMPLATE)})
    # WHEN deploying (termination protection already on: not set again)
    deployer.deploy(request(template=TABLE_TEMPLATE, rollback_monitoring_minutes=5, termination_protection=True))
    # THEN the change set carried exactly that alarm, and the user is told what is watched
    out = capsys.readouterr().out
    assert ("Rollback triggers: watching tracking-api-5xx-prod during the update and 5 minute(s) after; "
            "an alarm rolls it back") in out  # fmt: skip


def test_every_watched_alarm_is_named_in_the_rollback_triggers_line(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live stack with both the 5XX and the function-errors alarm (one page)
    from scripts.deploy.protection import rollback_triggers
    from scripts.deploy.stack import StackInfo

    _, stubber = cfn
    resources = [_resource("FnErrors", "AWS::CloudWatch::Alarm", "tracking-fn-errors-prod"),
                 _resource("Api5xx", "AWS::CloudWatch::Alarm", "tracking-api-5xx-prod")]  # fmt: skip
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": resources}, {"StackName": STACK_ID})
    # WHEN working out the rollback triggers THEN both, sorted, in the configuration and in one line
    config = rollback_triggers(deployer.context, request(template=TABLE_TEMPLATE, rollback_monitoring_minutes=5),
                               StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE"))  # fmt: skip
    assert config is not None
    assert [t["Arn"] for t in config["RollbackTriggers"]] == [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tracking-api-5xx-prod",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:tracking-fn-errors-prod",
    ]
    assert capsys.readouterr().out == (
        "Rollback triggers: watching tracking-api-5xx-prod, tracking-fn-errors-prod during the update and "
        "5 minute(s) after; an alarm rolls it back\n"
    )


# The policy the stack had before this update: it names a table the new template renames.
OLD_POLICY = json.dumps({"Statement": [{"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"],
                                        "Principal": "*", "Resource": ["LogicalResourceId/OldOrders"]}]})  # fmt: skip


def _expect_lifted_update(stubber: Stubber, final_status: str) -> None:
    """An allowed update replacing the table: the policy read, lifted, the update run to FINAL_STATUS."""
    _expect_update_with_triggers(stubber, 0, [change("Modify", "Orders", "AWS::DynamoDB::Table", "True")])
    stubber.add_response("get_stack_policy", {"StackPolicyBody": OLD_POLICY}, {"StackName": STACK_ID})
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": ALLOW_ALL_POLICY})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    _finish(stubber, final_status, protected=True)


def test_allow_replacement_lifts_the_policy_for_one_update_and_restores_the_one_the_stack_had_on_failure(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an update replacing the table, allowed, which then rolls back
    _, stubber = cfn
    _expect_lifted_update(stubber, "UPDATE_ROLLBACK_COMPLETE")
    # THEN the policy read before lifting is put back (the rolled-back stack's tables are the
    # old template's), not the new template's
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": OLD_POLICY})
    # WHEN deploying with --allow-replacement THEN the failure is the error raised
    with pytest.raises(StackFailed):
        deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True))
    assert "stack policy protecting the tables of tracking-prod is lifted for this update" in capsys.readouterr().out


def test_allow_replacement_restores_the_old_policy_then_sets_the_new_templates_on_success(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    _, stubber = cfn
    _expect_lifted_update(stubber, "UPDATE_COMPLETE")
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": OLD_POLICY})
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": stack_policy(TABLE_TEMPLATE)})
    result = deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True, termination_protection=True))
    assert result.status == "UPDATE_COMPLETE"


def test_a_restore_that_keeps_failing_is_retried_then_named_with_its_command_without_hiding_the_failure(
    cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an allowed update that rolls back, and SetStackPolicy failing 3 times afterwards
    client, stubber = cfn
    _expect_lifted_update(stubber, "UPDATE_ROLLBACK_COMPLETE")
    for _ in range(3):
        stubber.add_client_error("set_stack_policy", "Throttling", "Rate exceeded", 400,
                                 expected_params={"StackName": STACK_ID, "StackPolicyBody": OLD_POLICY})  # fmt: skip
    deployer = Deployer(client, None, Polling(delay=5), Console(), clock.sleep, clock, cli_options=("--region", REGION))
    # WHEN deploying with --allow-replacement
    with pytest.raises(StackFailed):  # THEN the update's failure is still the error raised
        deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True))
    # AND the restore was tried 3 times, 2 s then 4 s apart (the wait itself ended on its first poll)
    assert clock.now == 2 + 4
    # AND stderr names the exact command that restores the policy the stack had
    command = shlex.join(["aws", "cloudformation", "set-stack-policy", "--stack-name", STACK_ID,
                          "--stack-policy-body", OLD_POLICY, "--region", REGION])  # fmt: skip
    err = capsys.readouterr().err
    assert (f"error: could not restore the stack policy of {STACK} after --allow-replacement (An error occurred "
            f"(Throttling) when calling the SetStackPolicy operation: Rate exceeded); its tables are unprotected "
            f"until you run `{command}`") in err  # fmt: skip


def test_a_failed_restore_after_a_successful_update_fails_the_deploy_with_the_command(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    client, stubber = cfn
    _expect_lifted_update(stubber, "UPDATE_COMPLETE")
    stubber.add_client_error("set_stack_policy", "AccessDenied", "not allowed", 403)
    stubber.add_client_error("set_stack_policy", "AccessDenied", "not allowed", 403)
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": OLD_POLICY})
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": stack_policy(TABLE_TEMPLATE)})
    # GIVEN the third attempt succeeds THEN the deploy succeeds
    deployer = Deployer(client, None, Polling(delay=5), Console(), clock.sleep, clock)
    assert deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True)).status == "UPDATE_COMPLETE"
    # AND GIVEN every attempt failing after a successful update THEN exit 1 naming the command
    _expect_lifted_update(stubber, "UPDATE_COMPLETE")
    for _ in range(3):
        stubber.add_client_error("set_stack_policy", "AccessDenied", "not allowed", 403)
    with pytest.raises(DeployError) as error:
        deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True))
    assert error.value.exit_code == 1 and not isinstance(error.value, StackFailed)
    assert str(error.value).startswith(f"could not restore the stack policy of {STACK} after --allow-replacement")
    assert f"set-stack-policy --stack-name {STACK_ID} --stack-policy-body" in str(error.value)


def test_a_stack_without_a_policy_is_not_lifted(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    # GIVEN an allowed update of a stack that has no policy (or only the allow-everything one)
    _, stubber = cfn
    for policy in ({}, {"StackPolicyBody": ALLOW_ALL_POLICY}):
        _expect_update_with_triggers(stubber, 0, [change("Modify", "Orders", "AWS::DynamoDB::Table", "True")])
        stubber.add_response("get_stack_policy", policy, {"StackName": STACK_ID})
        stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
        stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
        _finish(stubber, "UPDATE_COMPLETE", protected=True)
        stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": stack_policy(TABLE_TEMPLATE)})
        # WHEN deploying THEN nothing is lifted or restored: only the template's policy is set after
        assert deployer.deploy(request(template=TABLE_TEMPLATE, allow_replacement=True)).status == "UPDATE_COMPLETE"


def test_a_no_op_deploy_repairs_the_policy_and_termination_protection(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live stack with termination protection off and a policy that is not the template's
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    stubber.add_response("list_stack_resources", {}, {"StackName": STACK_ID})
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         {**CREATE_PARAMS, "RollbackConfiguration": NO_TRIGGERS})  # fmt: skip
    empty = change_set("FAILED", [], reason="The submitted information didn't contain changes.")
    stubber.add_response("describe_change_set", empty, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("get_stack_policy", {"StackPolicyBody": OLD_POLICY}, {"StackName": STACK_ID})
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": stack_policy(TABLE_TEMPLATE)})
    stubber.add_response("update_termination_protection", {"StackId": STACK_ID},
                         {"StackName": STACK_ID, "EnableTerminationProtection": True})  # fmt: skip
    # WHEN deploying with nothing to change
    result = deployer.deploy(request(template=TABLE_TEMPLATE, termination_protection=True))
    # THEN both are put back, and the user told
    assert result.outcome == "no-changes"
    out = capsys.readouterr().out
    assert f"Stack policy of {STACK} was not the template's: set again" in out
    assert f"Termination protection enabled on stack {STACK}" in out


def test_a_no_op_deploy_leaves_a_policy_that_is_the_templates_alone(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the template's policy, spelled with other whitespace and key order (the same policy)
    _, stubber = cfn
    protected = stack("UPDATE_COMPLETE")
    protected["Stacks"][0]["EnableTerminationProtection"] = True
    stubber.add_response("describe_stacks", protected, {"StackName": STACK})
    stubber.add_response("list_stack_resources", {}, {"StackName": STACK_ID})
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.")
    same = json.dumps(json.loads(stack_policy(TABLE_TEMPLATE)), indent=2)
    stubber.add_response("get_stack_policy", {"StackPolicyBody": same}, {"StackName": STACK_ID})
    # WHEN deploying with nothing to change THEN no call sets anything (the fixture checks)
    assert deployer.deploy(request(template=TABLE_TEMPLATE, termination_protection=True)).outcome == "no-changes"
    assert "set again" not in capsys.readouterr().out


class _Flaky:
    """A CloudFormation client whose Nth DescribeStacks finds the endpoint gone (botocore gave up)."""

    def __init__(self, client: Any, fail_on: int) -> None:
        self._client, self._left = client, fail_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def describe_stacks(self, **kwargs: Any) -> Any:
        self._left -= 1
        if self._left == 0:
            raise EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com/")
        return self._client.describe_stacks(**kwargs)


def test_lost_connection_while_waiting_says_the_stack_may_still_be_changing(
    cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an executed update still in progress, then the endpoint unreachable
    client, stubber = cfn
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Fn", "AWS::Lambda::Function")])])
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    stubber.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    deployer = Deployer(_Flaky(client, fail_on=3), None, Polling(delay=5), Console(), clock.sleep, clock,
                        cli_options=("--region", REGION))  # fmt: skip

    def command() -> int:
        deployer.deploy(request())
        return 0

    # WHEN deploying THEN exit 1, one line: the lost connection, the stack's state, how to follow it
    assert run(command) == 1
    [line] = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("error: lost the connection to CloudFormation (Could not connect to the endpoint URL")
    assert f"while watching stack {STACK} (UPDATE_IN_PROGRESS)" in line and "may still be changing" in line
    assert f"aws cloudformation describe-stack-events --stack-name {STACK} --region {REGION}" in line


def test_lost_connection_while_the_change_set_is_created_names_the_change_set_left(
    cfn: tuple[Any, Stubber], clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         {**CREATE_PARAMS, "RollbackConfiguration": NO_TRIGGERS})  # fmt: skip

    class _Gone(_Flaky):
        def describe_change_set(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")

    deployer = Deployer(_Gone(client, fail_on=99), None, Polling(delay=5), Console(), clock.sleep, clock)
    with pytest.raises(DeployError) as error:
        deployer.deploy(request())
    assert "lost the connection" in str(error.value) and "left unexecuted; nothing was deployed" in str(error.value)
    assert f"delete-change-set --change-set-name {CHANGE_SET_ID}" in str(error.value)


def _summary(stack_id: str, name: str, status: str) -> dict[str, Any]:
    return {"StackId": stack_id, "StackName": name, "StackStatus": status,
            "CreationTime": stack("X")["Stacks"][0]["CreationTime"]}  # fmt: skip


def test_a_review_stack_answered_by_name_gives_way_to_the_live_one_beside_it(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN DescribeStacks by name answering with a review stack, and ListStacks (3 pages) also
    # showing another stack's name, a deleted stack of this name and the live one
    _, stubber = cfn
    review_id, deleted_id, live_id = (STACK_ID.replace("1a2b3c4d", prefix) for prefix in ("aaaa0000", "dddd0000", "bbbb0000"))
    stubber.add_response("describe_stacks", {"Stacks": [{**stack("REVIEW_IN_PROGRESS")["Stacks"][0], "StackId": review_id}]},
                         {"StackName": STACK})  # fmt: skip
    stubber.add_response("list_stacks", {"StackSummaries": [
        _summary(STACK_ID, "other", "CREATE_COMPLETE"), _summary(review_id, STACK, "REVIEW_IN_PROGRESS"),
        _summary(deleted_id, STACK, "DELETE_COMPLETE")], "NextToken": "t1"}, {})  # fmt: skip
    stubber.add_response("list_stacks", {"StackSummaries": [_summary(live_id, STACK, "UPDATE_COMPLETE")], "NextToken": "t2"},
                         {"NextToken": "t1"})  # fmt: skip
    stubber.add_response("list_stacks", {}, {"NextToken": "t2"})
    stubber.add_response("delete_stack", {}, {"StackName": review_id, "ClientRequestToken": ANY})
    stubber.add_response("describe_stacks", {"Stacks": [{**stack("UPDATE_COMPLETE")["Stacks"][0], "StackId": live_id}]},
                         {"StackName": live_id})  # fmt: skip
    # WHEN looking for the stack to deploy to
    found = deployer.find_stack(STACK)
    # THEN the live one (by id); the review stack beside it was deleted, and the user told
    assert found is not None and (found.stack_id, found.status) == (live_id, "UPDATE_COMPLETE")
    assert f"Removed the orphaned review stack {STACK} ({review_id})" in capsys.readouterr().out


def test_a_review_stack_alone_is_the_stack_to_create_into(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("REVIEW_IN_PROGRESS"), {"StackName": STACK})
    stubber.add_response("list_stacks", {"StackSummaries": [_summary(STACK_ID, STACK, "REVIEW_IN_PROGRESS")]}, {})
    found = deployer.find_stack(STACK)
    assert found is not None and (found.stack_id, found.status) == (STACK_ID, "REVIEW_IN_PROGRESS")


def test_a_failed_first_create_gets_no_stack_policy(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    # GIVEN a first create of a template with a table, which rolls back
    _, stubber = cfn
    _expect_create(stubber, [change("Add", "Orders", "AWS::DynamoDB::Table")])
    _finish(stubber, "ROLLBACK_COMPLETE")
    # WHEN deploying THEN it fails, and no policy is set on the failed stack (no further call)
    with pytest.raises(StackFailed):
        deployer.deploy(request(template=TABLE_TEMPLATE, termination_protection=True))


def test_every_pinned_parameter_is_checked(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    # GIVEN two pinned parameters: the first unchanged, the second changed
    _, stubber = cfn
    live = stack("UPDATE_COMPLETE")
    live["Stacks"][0]["Parameters"] = [{"ParameterKey": "Region", "ParameterValue": "eu"},
                                       {"ParameterKey": "Environment", "ParameterValue": "dev"}]  # fmt: skip
    stubber.add_response("describe_stacks", live, {"StackName": STACK})
    template = StackTemplate.from_text(json.dumps({"Parameters": {"Region": {}, "Environment": {}, "Other": {}},
                                                   "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))  # fmt: skip
    # WHEN deploying THEN the second is refused (a parameter not given, or not in the stack, is skipped)
    with pytest.raises(UsageError, match="is Environment='dev', not 'prod'"):
        deployer.deploy(request(template=template, parameters={"Region": "eu", "Environment": "prod", "Other": "x"},
                                pinned_parameters=("Other", "Region", "Missing", "Environment")))  # fmt: skip


def test_the_guard_says_what_happens_to_each_refused_resource(
    deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    from scripts.deploy.changeset import ChangeSet, ResourceChange

    _, stubber = cfn
    rows = (ResourceChange("Remove", "Bucket", "AWS::S3::Bucket"),
            ResourceChange("Modify", "Key", "AWS::KMS::Key", "Conditional"),
            ResourceChange("Dynamic", "Logs", "AWS::Logs::LogGroup"))  # fmt: skip
    change_set_ = ChangeSet(CHANGE_SET_ID, STACK_ID, "deploy-1", "UPDATE", "CREATE_COMPLETE", "", rows)
    deployer.guard(change_set_, allow_replacement=True)  # allowed: nothing happens (no call)
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    with pytest.raises(ReplacementRefused) as refused:
        deployer.guard(change_set_, allow_replacement=False)
    assert str(refused.value) == (
        "the change set would replace or remove stateful resources: Bucket (AWS::S3::Bucket: removed), "
        "Key (AWS::KMS::Key: replacement Conditional), Logs (AWS::Logs::LogGroup: Dynamic: CloudFormation "
        "cannot tell what will happen). Nothing changed: the change set was deleted. Re-run with "
        "--allow-replacement if the data loss is intended"
    )


def test_a_stack_that_disappears_while_waiting_is_named(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    _, stubber = cfn
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Fn", "AWS::Lambda::Function")])])
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK_ID} does not exist", 400)
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    with pytest.raises(DeployError) as error:
        deployer.deploy(request())
    assert str(error.value) == f"stack {STACK} ({STACK_ID}) disappeared while waiting"


def test_lost_connection_on_the_first_poll_says_the_stack_is_changing(
    cfn: tuple[Any, Stubber], clock: FakeClock
) -> None:
    client, stubber = cfn
    expect_update_change_set(stubber, [change_set("CREATE_COMPLETE", [change("Modify", "Fn", "AWS::Lambda::Function")])])
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    deployer = Deployer(_Flaky(client, fail_on=2), None, Polling(delay=5), Console(), clock.sleep, clock)
    with pytest.raises(DeployError) as error:
        deployer.deploy(request())
    assert f"while watching stack {STACK} (changing); CloudFormation carries on" in str(error.value)



@pytest.mark.parametrize("has_alarm_resources", [False, True])
def test_an_update_without_alarms_to_watch_clears_the_saved_rollback_triggers(
    has_alarm_resources: bool, deployer: Deployer, cfn: tuple[Any, Stubber]
) -> None:
    # GIVEN a live stack, and a template with no rollback alarm (False) or one whose alarms the
    # stack does not have yet (True: a new alarm cannot watch the update that creates it)
    _, stubber = cfn
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    template = request().template
    if has_alarm_resources:
        template = TABLE_TEMPLATE
        stubber.add_response("list_stack_resources", {"StackResourceSummaries": []}, {"StackName": STACK_ID})
    # WHEN deploying THEN the change set says "no triggers" explicitly, with no monitoring time
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                         {**CREATE_PARAMS, "ChangeSetType": "UPDATE", "RollbackConfiguration": NO_TRIGGERS})  # fmt: skip
    empty = change_set("FAILED", [], reason="The submitted information didn't contain changes.")
    stubber.add_response("describe_change_set", empty, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    if has_alarm_resources:  # the no-op deploy checks the table policy (see the protection tests above)
        stubber.add_response("get_stack_policy", {"StackPolicyBody": stack_policy(TABLE_TEMPLATE)}, {"StackName": STACK_ID})
    assert deployer.deploy(request(template=template)).outcome == "no-changes"


def test_a_policy_action_without_a_replacement_column_is_still_named(deployer: Deployer, cfn: tuple[Any, Stubber]) -> None:
    from scripts.deploy.changeset import ChangeSet, ResourceChange

    # GIVEN rows whose PolicyAction alone says the old resource goes (no Replacement given)
    _, stubber = cfn
    rows = (ResourceChange("Modify", "T", "AWS::DynamoDB::Table", "", "ReplaceAndDelete"),
            ResourceChange("Dynamic", "Q", "AWS::SQS::Queue", policy_action="Delete"),
            ResourceChange("Modify", "V", "AWS::EC2::Volume", "True", "ReplaceAndSnapshot"))  # fmt: skip
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN guarded THEN each is refused with what becomes of it
    with pytest.raises(ReplacementRefused) as refused:
        deployer.guard(ChangeSet(CHANGE_SET_ID, STACK_ID, "deploy-1", "UPDATE", "CREATE_COMPLETE", "", rows), False)
    assert str(refused.value).startswith(
        "the change set would replace or remove stateful resources: "
        "T (AWS::DynamoDB::Table: replacement by policy; ReplaceAndDelete: deleted), "
        "Q (AWS::SQS::Queue: Dynamic: CloudFormation cannot tell what will happen; Delete: deleted), "
        "V (AWS::EC2::Volume: replacement True; ReplaceAndSnapshot: deleted after a snapshot). Nothing changed"
    )


def test_a_stack_policy_that_is_not_json_is_not_the_templates_and_is_set_again(
    deployer: Deployer, cfn: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live stack whose policy text does not parse (an emulator's, or a truncated one)
    from scripts.deploy.protection import repair
    from scripts.deploy.stack import StackInfo

    _, stubber = cfn
    policy = stack_policy(TABLE_TEMPLATE)
    stubber.add_response("get_stack_policy", {"StackPolicyBody": '{"Statement": ['}, {"StackName": STACK_ID})
    stubber.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": policy})
    # WHEN a no-op deploy repairs the protection THEN the template's policy is set again, and said
    repair(deployer.context, request(template=TABLE_TEMPLATE), StackInfo(STACK_ID, STACK, "UPDATE_COMPLETE"), policy)
    assert capsys.readouterr().out == f"Stack policy of {STACK} was not the template's: set again\n"
