"""Following CodeDeploy's shift and pruning versions, against Stubber clients answering as AWS does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from scripts.cli import run
from scripts.console import Console
from scripts.deploy.context import Context
from scripts.deploy.deployer import Deployer, DeployRequest, Polling, StackFailed
from scripts.deploy.release import (
    ReleaseClients,
    ShiftedAlias,
    prune_function,
    prune_versions,
    shift_minutes,
    shifted_aliases,
)
from scripts.deploy.template import StackTemplate
from scripts.errors import DeployError

from .stubbed import (
    ACCOUNT, CHANGE_SET_ID, EXECUTE_PARAMS, NOW, REGION, STACK, STACK_ID, FakeClock, change, change_set, event,
    expect_update_change_set, stack,
)  # fmt: skip

APP, GROUP, FUNCTION = "tracking-prod-ReleaseApplication-1", "tracking-prod-TrackingGroup-1", "tracking-prod-api"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
ALIAS_ARN = f"{FUNCTION_ARN}:live"
ALARM = "tracking-prod-TrackingNewVersionErrors"
DEPLOYMENT = "d-ABCDEF123"


def release_template() -> StackTemplate:
    """A function, its version and `live` alias shifted by CodeDeploy (the shape tracking_templates emits)."""
    document = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "FnVersion": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
            "App": {"Type": "AWS::CodeDeploy::Application", "Properties": {"ComputePlatform": "Lambda"}},
            "Group": {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {"ApplicationName": {"Ref": "App"}}},
            "FnAlias": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {"Name": "live", "FunctionName": {"Ref": "Fn"},
                               "FunctionVersion": {"Fn::GetAtt": ["FnVersion", "Version"]}},
                "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {
                    "ApplicationName": {"Ref": "App"}, "DeploymentGroupName": {"Ref": "Group"}}},
            },  # fmt: skip
        }
    }
    return StackTemplate.from_text(json.dumps(document))


def resources() -> dict[str, Any]:
    rows = [("Fn", "AWS::Lambda::Function", FUNCTION), ("FnVersion", "AWS::Lambda::Version", f"{FUNCTION_ARN}:6"),
            ("App", "AWS::CodeDeploy::Application", APP), ("Group", "AWS::CodeDeploy::DeploymentGroup", GROUP),
            ("FnAlias", "AWS::Lambda::Alias", ALIAS_ARN)]  # fmt: skip
    return {"StackResources": [
        {"StackName": STACK, "StackId": STACK_ID, "LogicalResourceId": logical, "PhysicalResourceId": physical,
         "ResourceType": kind, "Timestamp": NOW, "ResourceStatus": "UPDATE_COMPLETE"}
        for logical, kind, physical in rows
    ]}  # fmt: skip


def deployment(status: str, **extra: Any) -> dict[str, Any]:
    info = {"applicationName": APP, "deploymentGroupName": GROUP, "deploymentId": DEPLOYMENT,
            "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes", "status": status,
            "createTime": NOW, "computePlatform": "Lambda", "creator": "CloudFormation"}  # fmt: skip
    info.update(extra)
    return {"deploymentInfo": info}


def alias(version: str, weights: dict[str, float] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"AliasArn": ALIAS_ARN, "Name": "live", "FunctionVersion": version, "RevisionId": "r"}
    if weights:
        answer["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    return answer


CANARY = {"deploymentConfigInfo": {"deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                                   "computePlatform": "Lambda", "trafficRoutingConfig": {
                                       "type": "TimeBasedCanary",
                                       "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}}}}  # fmt: skip


class Stubs:
    """CloudFormation, CodeDeploy, Lambda and CloudWatch clients, each behind a Stubber."""

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name=REGION)
                        for name in ("cloudformation", "codedeploy", "lambda", "cloudwatch")}  # fmt: skip
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}

    def __getitem__(self, name: str) -> Stubber:
        return self.stubbers[name]

    @property
    def release(self) -> ReleaseClients:
        return ReleaseClients(self.clients["codedeploy"], self.clients["lambda"], self.clients["cloudwatch"])


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    made = Stubs()
    for stubber in made.stubbers.values():
        stubber.activate()
    yield made
    for stubber in made.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def deployer(stubs: Stubs, clock: FakeClock) -> Deployer:
    return Deployer(stubs.clients["cloudformation"], None, Polling(delay=5, backoff=1, max_delay=5, timeout=600),
                    Console(), sleep=clock.sleep, clock=clock, cli_options=("--region", REGION),
                    release=stubs.release, now=lambda: NOW + timedelta(minutes=2))  # fmt: skip


def expect_update_up_to_execute(stubs: Stubs, running: list[str]) -> None:
    """The change set, the check for a deployment in progress (RUNNING), the events primed, the execute."""
    cfn = stubs["cloudformation"]
    expect_update_change_set(cfn, [change_set("CREATE_COMPLETE", [change("Modify", "FnAlias", "AWS::Lambda::Alias")])])
    cfn.add_response("describe_stack_resources", resources(), {"StackName": STACK_ID})
    stubs["codedeploy"].add_response("list_deployments", {"deployments": running}, {
        "applicationName": APP, "deploymentGroupName": GROUP,
        "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Baking", "Ready"]})  # fmt: skip


def expect_poll(stubs: Stubs, status: str, events: list[dict[str, Any]]) -> None:
    stubs["cloudformation"].add_response("describe_stacks", stack(status), {"StackName": STACK_ID})
    stubs["cloudformation"].add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})


def expect_found(stubs: Stubs) -> None:
    """The follower finds the deployment CloudFormation started for the alias."""
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), {"StackName": STACK_ID})
    stubs["codedeploy"].add_response("list_deployments", {"deployments": [DEPLOYMENT]}, {
        "applicationName": APP, "deploymentGroupName": GROUP, "createTimeRange": {"start": NOW + timedelta(minutes=1)}})


def expect_state(stubs: Stubs, status: str, alias_answer: dict[str, Any], config: bool = False, **extra: Any) -> None:
    stubs["codedeploy"].add_response("get_deployment", deployment(status, **extra), {"deploymentId": DEPLOYMENT})
    stubs["lambda"].add_response("get_alias", alias_answer, {"FunctionName": FUNCTION, "Name": "live"})
    if config:
        stubs["codedeploy"].add_response("get_deployment_config", CANARY, {
            "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes"})  # fmt: skip


def expect_canary_at_ten_percent(stubs: Stubs) -> None:
    """Executed; the alias's update event; its deployment found with 10 % on version 7 (canary, 5 minutes)."""
    expect_update_up_to_execute(stubs, running=[])
    stubs["cloudformation"].add_response("describe_stack_events", {"StackEvents": [OLD]}, {"StackName": STACK_ID})
    stubs["cloudformation"].add_response("execute_change_set", {}, EXECUTE_PARAMS)
    expect_poll(stubs, "UPDATE_IN_PROGRESS", [ALIAS_UPDATING, STARTED, OLD])
    expect_found(stubs)
    expect_state(stubs, "InProgress", alias("6", {"7": 0.1}), config=True)


OLD = event("e0", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
STARTED = event("e1", STACK, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated")
ALIAS_UPDATING = event("e2", "FnAlias", "AWS::Lambda::Alias", "UPDATE_IN_PROGRESS")


def test_the_template_says_which_aliases_codedeploy_shifts() -> None:
    assert shifted_aliases(release_template()) == [ShiftedAlias("FnAlias", "App", "Group")]
    from scripts.deploy.project import synthesize

    assert shifted_aliases(synthesize("prod")) == [
        ShiftedAlias("NotifierFunctionAlias", "ReleaseApplication", "NotifierFunctionDeploymentGroup"),
        ShiftedAlias("TrackingFunctionAlias", "ReleaseApplication", "TrackingFunctionDeploymentGroup"),
    ]


@pytest.mark.parametrize(("routing", "minutes"), [
    ({"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}}, 5),
    ({"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1}}, 9),
    ({"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 30, "linearInterval": 2}}, 6),
    ({"type": "AllAtOnce"}, 0),
    ({}, 0),
])  # fmt: skip
def test_shift_minutes_per_configuration(routing: dict[str, Any], minutes: int) -> None:
    assert shift_minutes(routing) == minutes


def test_a_shift_is_followed_until_it_succeeds_then_old_versions_are_pruned(
    stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an update of the alias: CodeDeploy shifts 10 %, then all traffic, to version 7
    expect_canary_at_ten_percent(stubs)
    done = event("e3", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
    expect_poll(stubs, "UPDATE_COMPLETE", [done, ALIAS_UPDATING, STARTED, OLD])
    expect_state(stubs, "Succeeded", alias("7"))
    # AND versions 1..7, of which 2 is still the target of an event source mapping
    expect_prune(stubs, versions=range(1, 8), aliases=[alias("7")], mapped="2")
    for version in ("1", "3", "4"):
        stubs["lambda"].add_response("delete_function", {}, {"FunctionName": FUNCTION, "Qualifier": version})
    # WHEN deploying (prod keeps 3 versions)
    result = deployer(stubs, FakeClock()).deploy(DeployRequest(STACK, release_template(), keep_versions=3))
    # THEN the deployment's progress was shown: id, traffic on each version, time left; then its end
    assert result.outcome == "deployed"
    out = capsys.readouterr().out
    assert (f"CodeDeploy {DEPLOYMENT} (FnAlias): InProgress, traffic: version 7 10%, version 6 90%, "
            "about 3m 00s left\n") in out  # fmt: skip
    assert f"CodeDeploy {DEPLOYMENT} (FnAlias): Succeeded, traffic: version 7 100%\n" in out
    # AND versions older than the newest 3 were deleted, except the mapped one and $LATEST
    assert f"Pruned versions 1, 3, 4 of {FUNCTION} (keeping the newest 3); kept older 2 (in use)\n" in out


def test_a_rollback_by_alarm_names_the_alarm_and_the_command_and_fails(
    stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a canary whose new version trips the errors alarm: CodeDeploy stops and moves traffic back
    expect_canary_at_ten_percent(stubs)
    failed = event("e3", "FnAlias", "AWS::Lambda::Alias", "UPDATE_FAILED",
                   f"CodeDeploy deployment {DEPLOYMENT} failed")  # fmt: skip
    rolled = event("e4", STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE")
    expect_poll(stubs, "UPDATE_ROLLBACK_COMPLETE", [rolled, failed, ALIAS_UPDATING, STARTED, OLD])
    message = ("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, "
               f"and the affected deployments have been stopped. Activated alarms: <{ALARM}>")  # fmt: skip
    expect_state(stubs, "Stopped", alias("6"), errorInformation={"code": "ALARM_ACTIVE", "message": message},
                 rollbackInfo={"rollbackDeploymentId": "d-ROLLBACK1", "rollbackMessage": "Rollback deployment "
                               "d-ROLLBACK1 succeeded"})  # fmt: skip
    stubs["codedeploy"].add_response("get_deployment_group", {"deploymentGroupInfo": {
        "applicationName": APP, "deploymentGroupName": GROUP,
        "alarmConfiguration": {"enabled": True, "alarms": [{"name": ALARM}, {"name": "other-alarm"}]}}},
        {"applicationName": APP, "deploymentGroupName": GROUP})  # fmt: skip
    stubs["cloudwatch"].add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": ALARM, "StateValue": "ALARM"}]},
                                     {"AlarmNames": [ALARM, "other-alarm"], "StateValue": "ALARM"})  # fmt: skip
    # WHEN deploying, as the command does
    code = run(lambda: deployer(stubs, FakeClock()).deploy(DeployRequest(STACK, release_template(), keep_versions=3))
               and 0)  # fmt: skip
    # THEN exit 1, nothing pruned, and the rollback is explained: the alarm, CodeDeploy's reason, the command
    assert code == 1
    out, err = capsys.readouterr()
    assert f"CodeDeploy {DEPLOYMENT} (FnAlias): Stopped, traffic: version 6 100%\n" in out
    assert (f"CodeDeploy rolled back FnAlias: deployment {DEPLOYMENT} Stopped; the alias is back on its previous "
            f"version\n  stopped by alarm: {ALARM}\n  ALARM_ACTIVE: {message}\n  Rollback deployment d-ROLLBACK1 "
            f"succeeded\n  inspect it with `aws deploy get-deployment --deployment-id {DEPLOYMENT} --region "
            f"{REGION}`\n") in err  # fmt: skip
    assert "FAILED FnAlias (AWS::Lambda::Alias) UPDATE_FAILED" in err


def test_a_deployment_in_progress_refuses_the_release_and_deletes_the_change_set(
    stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a deployment of the group still running (another deploy's canary)
    expect_update_up_to_execute(stubs, running=["d-RUNNING1"])
    stubs["cloudformation"].add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # WHEN deploying
    with pytest.raises(DeployError) as refused:
        deployer(stubs, FakeClock()).deploy(DeployRequest(STACK, release_template()))
    # THEN nothing was executed: exit 1 naming the deployment, and how to stop it
    assert refused.value.exit_code == 1 and not isinstance(refused.value, StackFailed)
    assert str(refused.value) == (
        f"CodeDeploy deployment d-RUNNING1 of FnAlias (group {GROUP}) is still in progress: a new release would "
        "fail on it. Wait for it to end, or stop it with `aws deploy stop-deployment --deployment-id d-RUNNING1 "
        f"--auto-rollback-enabled --region {REGION}`"
    )


def test_an_endpoint_without_codedeploy_is_said_once_and_not_followed(
    stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an endpoint that has no CodeDeploy (an emulator answers InvalidAction)
    cfn = stubs["cloudformation"]
    expect_update_change_set(cfn, [change_set("CREATE_COMPLETE", [change("Modify", "FnAlias", "AWS::Lambda::Alias")])])
    cfn.add_response("describe_stack_resources", resources(), {"StackName": STACK_ID})
    stubs["codedeploy"].add_client_error("list_deployments", "InvalidAction", "not implemented")
    cfn.add_response("describe_stack_events", {"StackEvents": [OLD]}, {"StackName": STACK_ID})
    cfn.add_response("execute_change_set", {}, EXECUTE_PARAMS)
    done = event("e3", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
    expect_poll(stubs, "UPDATE_COMPLETE", [done, ALIAS_UPDATING, STARTED, OLD])
    # WHEN deploying THEN it succeeds, saying once that the shift is not followed
    assert deployer(stubs, FakeClock()).deploy(DeployRequest(STACK, release_template())).outcome == "deployed"
    assert capsys.readouterr().out.count("note: the endpoint has no CodeDeploy deployments for this stack") == 1


def expect_prune(stubs: Stubs, versions: range, aliases: list[dict[str, Any]], mapped: str | None = None) -> None:
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), {"StackName": STACK_ID})
    listed = [{"FunctionName": FUNCTION, "FunctionArn": f"{FUNCTION_ARN}:$LATEST", "Version": "$LATEST"}] + [
        {"FunctionName": FUNCTION, "FunctionArn": f"{FUNCTION_ARN}:{v}", "Version": str(v)} for v in versions
    ]
    stubs["lambda"].add_response("list_versions_by_function", {"Versions": listed}, {"FunctionName": FUNCTION})
    stubs["lambda"].add_response("list_aliases", {"Aliases": aliases}, {"FunctionName": FUNCTION})
    mappings = [{"UUID": "a1b2c3d4-0000-1111-2222-333344445555", "FunctionArn": f"{FUNCTION_ARN}:{mapped}"}] if mapped else []
    mappings.append({"UUID": "a1b2c3d4-0000-1111-2222-666677778888", "FunctionArn": f"{FUNCTION_ARN}2:1"})  # another function's version 1
    stubs["lambda"].add_response("list_event_source_mappings", {"EventSourceMappings": mappings}, {})


def test_pruning_never_touches_a_version_an_alias_or_its_routing_uses(stubs: Stubs) -> None:
    # GIVEN versions 1..6; the alias on 2 with 10 % routed to 1 (a rollback by hand kept them live)
    stubs["lambda"].add_response("list_versions_by_function", {"Versions": [
        {"FunctionName": FUNCTION, "FunctionArn": f"{FUNCTION_ARN}:{v}", "Version": str(v)}
        for v in ("$LATEST", "1", "2", "3", "4", "5", "6")]}, {"FunctionName": FUNCTION})  # fmt: skip
    stubs["lambda"].add_response("list_aliases", {"Aliases": [alias("2", {"1": 0.1})]}, {"FunctionName": FUNCTION})
    stubs["lambda"].add_response("list_event_source_mappings", {"EventSourceMappings": [
        {"UUID": "a1b2c3d4-0000-1111-2222-333344445555", "FunctionArn": f"{FUNCTION_ARN}:live"}]}, {})  # fmt: skip
    stubs["lambda"].add_response("delete_function", {}, {"FunctionName": FUNCTION, "Qualifier": "3"})
    # WHEN keeping the newest 3 (4, 5, 6)
    context = Context(stubs.clients["cloudformation"])
    pruned = prune_function(context, stubs.clients["lambda"], FUNCTION, 3)
    # THEN only 3 goes: 1 and 2 are the alias's
    assert (pruned.deleted, pruned.in_use) == (("3",), ("1", "2"))


def test_pruning_with_nothing_older_than_the_kept_lists_nothing_else(stubs: Stubs) -> None:
    stubs["lambda"].add_response("list_versions_by_function", {"Versions": [
        {"FunctionName": FUNCTION, "FunctionArn": f"{FUNCTION_ARN}:{v}", "Version": v}
        for v in ("$LATEST", "1", "2")]}, {"FunctionName": FUNCTION})  # fmt: skip
    pruned = prune_function(Context(stubs.clients["cloudformation"]), stubs.clients["lambda"], FUNCTION, 2)
    assert (pruned.deleted, pruned.in_use) == ((), ())


def test_pruning_on_an_endpoint_without_versions_is_said_and_skipped(
    stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), {"StackName": STACK_ID})
    stubs["lambda"].add_client_error("list_versions_by_function", "InvalidAction", "no")
    assert prune_versions(Context(stubs.clients["cloudformation"]), stubs.release, STACK_ID, 3) == []
    assert capsys.readouterr().out == "note: the endpoint cannot list or delete Lambda versions: old versions were not pruned\n"


def test_each_version_in_use_is_named_with_what_uses_it(stubs: Stubs) -> None:
    # GIVEN the alias on 6 routing 10 % to 5, a second alias also on 6, and mappings on a version,
    # on the alias, on another function's version and one answered without its ARN or UUID
    from scripts.deploy.release import versions_in_use

    stubs["lambda"].add_response("list_aliases", {"Aliases": [
        alias("6", {"5": 0.1}), {**alias("6"), "Name": "stable", "AliasArn": f"{FUNCTION_ARN}:stable"}]},
        {"FunctionName": FUNCTION})  # fmt: skip
    stubs["lambda"].add_response("list_event_source_mappings", {"EventSourceMappings": [
        {"UUID": "a1b2c3d4-0000-1111-2222-333344445555", "FunctionArn": f"{FUNCTION_ARN}:4"},
        {"UUID": "b1b2c3d4-0000-1111-2222-333344445555", "FunctionArn": f"{FUNCTION_ARN}:live"},
        {"UUID": "c1b2c3d4-0000-1111-2222-333344445555", "FunctionArn": f"{FUNCTION_ARN}-other:3"},
        {"FunctionArn": f"{FUNCTION_ARN}:2"},
        {"UUID": "d1b2c3d4-0000-1111-2222-333344445555"},
    ]}, {})  # fmt: skip
    # WHEN asking which versions are in use THEN each with its first user, nothing else
    assert versions_in_use(stubs.clients["lambda"], FUNCTION, FUNCTION_ARN) == {
        "6": "alias live",
        "5": "alias live (routing)",
        "4": "event source mapping a1b2c3d4-0000-1111-2222-333344445555",
        "2": "event source mapping ",
    }
    # AND without the function's ARN (no $LATEST listed) only the aliases are asked
    stubs["lambda"].add_response("list_aliases", {"Aliases": [alias("6")]}, {"FunctionName": FUNCTION})
    assert versions_in_use(stubs.clients["lambda"], FUNCTION, "") == {"6": "alias live"}


@pytest.mark.parametrize(
    ("error", "alarm_lookup", "explained"),
    [
        # a failure that is not an alarm's: no alarm looked up, CodeDeploy's code and message as sent
        ({"code": "HEALTH_CONSTRAINTS", "message": "Too many instances failed"}, False,
         "  HEALTH_CONSTRAINTS: Too many instances failed\n"),
        # an alarm named only in the message is looked up too; a code alone keeps no dangling ': '
        ({"message": "Stopped: an Alarm is active"}, True,
         f"  stopped by alarm: other-alarm, {ALARM}\n  : Stopped: an Alarm is active\n"),
        ({"code": "TIMEOUT"}, False, "  TIMEOUT\n"),
        # no error information and no rollback message: the headline and the command only
        (None, False, ""),
    ],
)  # fmt: skip
def test_a_rollback_is_explained_with_what_codedeploy_says_and_nothing_more(
    error: dict[str, str] | None, alarm_lookup: bool, explained: str, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a canary that CodeDeploy stops for REASON, the stack rolling back
    expect_canary_at_ten_percent(stubs)
    failed = event("e3", "FnAlias", "AWS::Lambda::Alias", "UPDATE_FAILED", f"CodeDeploy deployment {DEPLOYMENT} failed")
    rolled = event("e4", STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE")
    expect_poll(stubs, "UPDATE_ROLLBACK_COMPLETE", [rolled, failed, ALIAS_UPDATING, STARTED, OLD])
    expect_state(stubs, "Failed", alias("6"), **({"errorInformation": error} if error else {}))
    if alarm_lookup:
        stubs["codedeploy"].add_response("get_deployment_group", {"deploymentGroupInfo": {
            "applicationName": APP, "deploymentGroupName": GROUP,
            "alarmConfiguration": {"enabled": True, "alarms": [{"name": ALARM}, {"name": "other-alarm"}]}}},
            {"applicationName": APP, "deploymentGroupName": GROUP})  # fmt: skip
        stubs["cloudwatch"].add_response("describe_alarms", {"MetricAlarms": [
            {"AlarmName": ALARM, "StateValue": "ALARM"}, {"AlarmName": "other-alarm", "StateValue": "ALARM"}]},
            {"AlarmNames": [ALARM, "other-alarm"], "StateValue": "ALARM"})  # fmt: skip
    # WHEN deploying THEN exit 1 and, on stderr, exactly the headline, what CodeDeploy said, the command
    assert run(lambda: deployer(stubs, FakeClock()).deploy(DeployRequest(STACK, release_template())) and 0) == 1
    err = capsys.readouterr().err
    assert (f"CodeDeploy rolled back FnAlias: deployment {DEPLOYMENT} Failed; the alias is back on its previous "
            f"version\n{explained}  inspect it with `aws deploy get-deployment --deployment-id {DEPLOYMENT} "
            f"--region {REGION}`\n") in err  # fmt: skip
