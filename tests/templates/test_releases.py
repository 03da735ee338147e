"""Releases: versions published exactly when what Lambda runs changes, the `live` alias every caller
uses, CodeDeploy's shift per environment, rolled back by alarms that watch the new version."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

import pytest

from tracking_templates.names import (
    FUNCTION_CODE_SHA256_PARAMS,
    FUNCTION_CODE_VERSION_PARAMS,
    LIVE_ALIAS,
    Params,
    Resources,
)
from tracking_templates.render import ordered
from tracking_templates.settings import (
    AlarmSettings,
    FunctionSettings,
    ReleaseSettings,
    SettingsError,
    settings_for,
)
from tracking_templates.template import build_template

from .conftest import ENVIRONMENTS, resources_of_type

# (function, version, alias, deployment group, new-version errors alarm, code folder)
FUNCTIONS = [
    (Resources.API_FUNCTION, Resources.API_VERSION, Resources.API_ALIAS, Resources.API_DEPLOYMENT_GROUP,
     Resources.API_NEW_VERSION_ERRORS_ALARM, "tracking"),
    (Resources.NOTIFIER_FUNCTION, Resources.NOTIFIER_VERSION, Resources.NOTIFIER_ALIAS,
     Resources.NOTIFIER_DEPLOYMENT_GROUP, Resources.NOTIFIER_NEW_VERSION_ERRORS_ALARM, "notifier"),
]  # fmt: skip
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${Alarm}"


def _resources(settings) -> dict:
    return ordered(build_template(settings))["Resources"]


# --- every caller through the alias ---------------------------------------------------------


def test_every_api_route_invokes_the_alias_and_is_permitted_on_it(dev: dict) -> None:
    # GIVEN the API's methods and the Lambda permissions
    methods = resources_of_type(dev, "AWS::ApiGateway::Method")
    permissions = resources_of_type(dev, "AWS::Lambda::Permission")
    # THEN every integration's URI is the alias's ARN (its Ref), never the function's
    assert len(methods) == 3
    for method in methods.values():
        assert method["Properties"]["Integration"]["Uri"]["Fn::Sub"][1] == {"Arn": {"Ref": Resources.API_ALIAS}}
    # AND every permission is on the alias (one on the unqualified function does not cover it)
    assert {name: p["Properties"]["FunctionName"] for name, p in permissions.items()} == {
        f"{method}Permission": {"Ref": Resources.API_ALIAS} for method in methods
    }


def test_the_stream_mapping_invokes_the_notifiers_alias(templates: dict) -> None:
    for env in ENVIRONMENTS:
        mapping = templates[env]["Resources"][Resources.STREAM_MAPPING]["Properties"]
        assert mapping["FunctionName"] == {"Ref": Resources.NOTIFIER_ALIAS}


def test_no_caller_invokes_a_function_unqualified(templates: dict) -> None:
    # GIVEN every resource but the functions' own version, alias, alarms, dashboard, role and outputs
    for env in ENVIRONMENTS:
        callers = {
            name: res for name, res in templates[env]["Resources"].items()
            if res["Type"] in ("AWS::ApiGateway::Method", "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping")
        }  # fmt: skip
        text = json.dumps(callers)
        # THEN none names a function directly (by Ref or by its ARN)
        for function in (Resources.API_FUNCTION, Resources.NOTIFIER_FUNCTION):
            assert f'{{"Ref": "{function}"}}' not in text
            assert f'["{function}", "Arn"]' not in text


# --- versions and aliases -------------------------------------------------------------------


@pytest.mark.parametrize(("function", "version", "alias", "group", "_alarm", "code_dir"), FUNCTIONS)
def test_each_function_publishes_a_retained_version_of_the_built_code(
    dev: dict, function: str, version: str, alias: str, group: str, _alarm: str, code_dir: str
) -> None:
    # GIVEN the function's Version
    resource = dev["Resources"][version]
    props = resource["Properties"]
    # THEN it publishes this function with the CodeSha256 the deploy passes for its zip
    assert props["FunctionName"] == {"Ref": function}
    assert props["CodeSha256"] == {"Ref": FUNCTION_CODE_SHA256_PARAMS[code_dir]}
    assert re.fullmatch(r"configuration [0-9a-f]{8}", props["Description"])
    # AND only properties that replace the Version (all of AWS::Lambda::Version's do): a change publishes
    assert set(props) == {"FunctionName", "CodeSha256", "Description"}
    # AND the version it replaces stays (a manual rollback points the alias back at it)
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


@pytest.mark.parametrize(("function", "version", "alias", "group", "_alarm", "code_dir"), FUNCTIONS)
def test_each_alias_is_live_on_the_version_and_shifted_by_codedeploy(
    dev: dict, function: str, version: str, alias: str, group: str, _alarm: str, code_dir: str
) -> None:
    resource = dev["Resources"][alias]
    assert resource["Properties"]["Name"] == LIVE_ALIAS == "live"
    assert resource["Properties"]["FunctionName"] == {"Ref": function}
    assert resource["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
    assert resource["UpdatePolicy"] == {
        "CodeDeployLambdaAliasUpdate": {
            "ApplicationName": {"Ref": Resources.RELEASE_APPLICATION},
            "DeploymentGroupName": {"Ref": group},
        }
    }


def test_the_code_parameters_have_no_default_and_accept_lambdas_digest(dev: dict) -> None:
    parameters = dev["Parameters"]
    digest = base64.b64encode(hashlib.sha256(b"zip bytes").digest()).decode()
    for code_dir in ("tracking", "notifier"):
        sha = parameters[FUNCTION_CODE_SHA256_PARAMS[code_dir]]
        version = parameters[FUNCTION_CODE_VERSION_PARAMS[code_dir]]
        assert "Default" not in sha and "Default" not in version
        # base64 of the digest passes; its hex spelling (what `sha256sum` prints) does not
        assert re.fullmatch(sha["AllowedPattern"], digest)
        assert not re.fullmatch(sha["AllowedPattern"], hashlib.sha256(b"zip bytes").hexdigest())
        assert not re.fullmatch(sha["AllowedPattern"], digest[:-1])
        # an S3 version id, or "" where the bucket keeps none
        assert re.fullmatch(version["AllowedPattern"], "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")
        assert re.fullmatch(version["AllowedPattern"], "")
    assert (Params.CODE_SHA256, Params.NOTIFIER_CODE_SHA256) == ("CodeSha256", "NotifierCodeSha256")
    assert (Params.CODE_OBJECT_VERSION, Params.NOTIFIER_CODE_OBJECT_VERSION) == (
        "CodeObjectVersion", "NotifierCodeObjectVersion"
    )


# --- a new version exactly when what Lambda runs changes -------------------------------------

BASE = settings_for("staging")
SAME_RUNTIME_CHANGES = {
    "an alarm threshold": replace(BASE, alarms=AlarmSettings(api_5xx_errors=50)),
    "the stage's throttling": replace(BASE, throttle_rate_limit=70),
    "log retention": replace(BASE, log_retention_days=60),
    "the deployment configuration": replace(
        BASE, release=ReleaseSettings(deployment_config="CodeDeployDefault.LambdaAllAtOnce")
    ),
}


@pytest.mark.parametrize("change", sorted(SAME_RUNTIME_CHANGES))
def test_a_change_outside_the_functions_leaves_both_versions_alone(change: str) -> None:
    # GIVEN the template before and after a change that is not the functions' configuration
    before, after = _resources(BASE), _resources(SAME_RUNTIME_CHANGES[change])
    # THEN the change is in the template, but no Version differs: nothing is published
    assert before != after
    for _, version, *_rest in FUNCTIONS:
        assert after[version] == before[version], change


@pytest.mark.parametrize(
    ("change", "republished"),
    [
        ({"api_function": FunctionSettings(memory_mb=1024, timeout_s=30, reserved_concurrency=20)},
         {Resources.API_VERSION}),
        ({"notifier_function": FunctionSettings(memory_mb=256, timeout_s=90, reserved_concurrency=5)},
         {Resources.NOTIFIER_VERSION}),
        ({"notify_statuses": ("failed",)}, {Resources.NOTIFIER_VERSION}),  # an environment variable
        ({"listing_shards": 8}, {Resources.API_VERSION, Resources.NOTIFIER_VERSION}),  # both read it
        ({"release": ReleaseSettings(deployment_config="CodeDeployDefault.LambdaAllAtOnce", snapstart=True)},
         {Resources.API_VERSION, Resources.NOTIFIER_VERSION}),  # SnapStart
    ],
)  # fmt: skip
def test_a_configuration_change_republishes_exactly_the_changed_function(change: dict, republished: set) -> None:
    # GIVEN the template before and after a change of a function's configuration
    before, after = _resources(BASE), _resources(replace(BASE, **change))
    # THEN exactly that function's Version has a new Description (a replacement: a new version)
    changed = {version for _, version, *_rest in FUNCTIONS if after[version] != before[version]}
    assert changed == republished
    for version in changed:
        assert after[version]["Properties"]["Description"] != before[version]["Properties"]["Description"]
        assert after[version]["Properties"]["CodeSha256"] == before[version]["Properties"]["CodeSha256"]


def test_versions_kept_is_the_deploys_setting_and_leaves_the_template_alone() -> None:
    assert _resources(replace(BASE, release=replace(BASE.release, keep_versions=9))) == _resources(BASE)


def test_the_code_location_is_only_parameters_so_a_code_change_is_the_digest_alone(dev: dict) -> None:
    # GIVEN the functions' Code and Versions: nothing of the code is in the template's text
    for function, version, _alias, _group, _alarm, code_dir in FUNCTIONS:
        code = dev["Resources"][function]["Properties"]["Code"]
        assert code["S3Key"] == {"Ref": {"tracking": Params.CODE_KEY, "notifier": Params.NOTIFIER_CODE_KEY}[code_dir]}
        # THEN new code changes the CodeSha256 parameter only: the Version's one input that is not text
        assert dev["Resources"][version]["Properties"]["CodeSha256"] == {"Ref": FUNCTION_CODE_SHA256_PARAMS[code_dir]}


# --- CodeDeploy: per environment, rolled back by alarms on the new version ------------------


def test_one_lambda_application_and_a_group_per_function_in_every_environment(templates: dict) -> None:
    expected = {
        "dev": "CodeDeployDefault.LambdaAllAtOnce",
        "staging": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        "prod": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    }
    for env in ENVIRONMENTS:
        resources = templates[env]["Resources"]
        assert resources[Resources.RELEASE_APPLICATION]["Properties"]["ComputePlatform"] == "Lambda"
        groups = resources_of_type(templates[env], "AWS::CodeDeploy::DeploymentGroup")
        assert set(groups) == {Resources.API_DEPLOYMENT_GROUP, Resources.NOTIFIER_DEPLOYMENT_GROUP}
        for group in groups.values():
            props = group["Properties"]
            assert props["ApplicationName"] == {"Ref": Resources.RELEASE_APPLICATION}
            assert props["DeploymentConfigName"] == expected[env] == settings_for(env).release.deployment_config
            assert props["DeploymentStyle"] == {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"}
            assert props["ServiceRoleArn"] == {"Fn::GetAtt": [Resources.RELEASE_ROLE, "Arn"]}
            assert props["AutoRollbackConfiguration"] == {
                "Enabled": True, "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
            }


@pytest.mark.parametrize(("function", "version", "alias", "group", "alarm", "code_dir"), FUNCTIONS)
def test_the_release_alarm_counts_errors_of_the_new_version_only(
    templates: dict, function: str, version: str, alias: str, group: str, alarm: str, code_dir: str
) -> None:
    props = templates["prod"]["Resources"][alarm]["Properties"]
    # THEN it counts Errors invoked through the alias and executed by the version being released
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert props["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": function}},
        {"Name": "Resource", "Value": {"Fn::Sub": ["${Function}:live", {"Function": {"Ref": function}}]}},
        {"Name": "ExecutedVersion", "Value": {"Fn::GetAtt": [version, "Version"]}},
    ]
    # AND a single error in a minute is enough to stop the shift
    assert (props["Period"], props["EvaluationPeriods"], props["Threshold"]) == (60, 1, 0)
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["TreatMissingData"] == "notBreaching"


def test_each_group_watches_its_functions_new_version_and_the_api_its_5xx(templates: dict) -> None:
    for env in ENVIRONMENTS:
        resources = templates[env]["Resources"]

        def watched(group: str) -> list:
            config = resources[group]["Properties"]["AlarmConfiguration"]
            assert config["Enabled"] is True
            return [alarm["Name"] for alarm in config["Alarms"]]

        assert watched(Resources.API_DEPLOYMENT_GROUP) == [
            {"Ref": Resources.API_NEW_VERSION_ERRORS_ALARM}, {"Ref": "Api5xxAlarm"}
        ]
        assert watched(Resources.NOTIFIER_DEPLOYMENT_GROUP) == [{"Ref": Resources.NOTIFIER_NEW_VERSION_ERRORS_ALARM}]
        # The 5XX alarm watches this API's stage, per minute, as the other API alarms do
        five_xx = resources["Api5xxAlarm"]["Properties"]
        assert five_xx["Dimensions"] == resources["Api4xxAlarm"]["Properties"]["Dimensions"]
        assert (five_xx["MetricName"], five_xx["Period"]) == ("5XXError", 60)


def test_the_release_role_moves_only_these_aliases_and_reads_only_these_alarms(dev: dict) -> None:
    role = dev["Resources"][Resources.RELEASE_ROLE]["Properties"]
    # GIVEN CodeDeploy's role: only CodeDeploy assumes it, and no managed (wildcard) policy
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    # THEN it reads and updates exactly the two `live` aliases
    shift = statements["LiveAliasShift"]
    assert shift["Action"] == ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    assert shift["Resource"] == [
        {"Fn::Sub": ["${Function}:live", {"Function": {"Fn::GetAtt": [f, "Arn"]}}]}
        for f in (Resources.API_FUNCTION, Resources.NOTIFIER_FUNCTION)
    ]
    # AND describes exactly the alarms it watches
    alarms = statements["ReleaseAlarmsRead"]
    assert alarms["Action"] == ["cloudwatch:DescribeAlarms"]
    assert alarms["Resource"] == [
        {"Fn::Sub": [ALARM_ARN, {"Alarm": {"Ref": name}}]}
        for name in (Resources.API_NEW_VERSION_ERRORS_ALARM, "Api5xxAlarm", Resources.NOTIFIER_NEW_VERSION_ERRORS_ALARM)
    ]
    assert set(statements) == {"LiveAliasShift", "ReleaseAlarmsRead"}
    assert "*" not in json.dumps(policy)


# --- SnapStart --------------------------------------------------------------------------------


def test_snapstart_is_on_published_versions_in_prod_only(templates: dict) -> None:
    for env in ENVIRONMENTS:
        for function, *_rest in FUNCTIONS:
            props = templates[env]["Resources"][function]["Properties"]
            if env == "prod":
                assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
            else:
                assert "SnapStart" not in props


def test_the_functions_meet_snapstarts_conditions_where_it_is_on(templates: dict) -> None:
    # GIVEN prod's functions (SnapStart on)
    for function, *_rest in FUNCTIONS:
        props = templates["prod"]["Resources"][function]["Properties"]
        # THEN a runtime that supports it, and none of what it excludes
        assert tuple(int(part) for part in props["Runtime"].removeprefix("python").split(".")) >= (3, 12)
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
        assert "FileSystemConfigs" not in props
    versions = resources_of_type(templates["prod"], "AWS::Lambda::Version")
    aliases = resources_of_type(templates["prod"], "AWS::Lambda::Alias")
    assert not any("ProvisionedConcurrencyConfig" in r["Properties"] for r in [*versions.values(), *aliases.values()])


# --- settings --------------------------------------------------------------------------------


def test_release_settings_per_environment() -> None:
    assert settings_for("dev").release == ReleaseSettings(
        deployment_config="CodeDeployDefault.LambdaAllAtOnce", snapstart=False, keep_versions=3
    )
    assert settings_for("staging").release == ReleaseSettings(
        deployment_config="CodeDeployDefault.LambdaLinear10PercentEvery1Minute", snapstart=False, keep_versions=3
    )
    assert settings_for("prod").release == ReleaseSettings(
        deployment_config="CodeDeployDefault.LambdaCanary10Percent5Minutes", snapstart=True, keep_versions=5
    )
    assert settings_for("feature-x").release == settings_for("dev").release


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deployment_config": "CodeDeployDefault.AllAtOnce"}, "not one of CodeDeploy's Lambda configurations"),
        ({"deployment_config": "LambdaCanary10Percent5Minutes"}, "not one of CodeDeploy's Lambda configurations"),
        ({"keep_versions": 1}, r"keep_versions must be an integer >= 2"),
        ({"keep_versions": True}, r"keep_versions must be an integer >= 2"),
        ({"keep_versions": "3"}, r"keep_versions must be an integer >= 2"),
        ({"snapstart": "yes"}, "snapstart must be true or false"),
    ],
)
def test_invalid_release_settings_are_refused(values: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ReleaseSettings(**values)


def test_two_versions_is_the_least_kept() -> None:
    assert ReleaseSettings(keep_versions=2).keep_versions == 2
