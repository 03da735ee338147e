"""The replacement guard's rules, the table's rendering, and the protection derived from a template."""

from __future__ import annotations

import json

import pytest

from scripts.deploy.changeset import ChangeSet, ResourceChange, format_changes, is_empty_reason
from scripts.deploy.protection import (
    ALLOW_ALL_POLICY,
    alarm_arn,
    rollback_alarm_ids,
    rollback_configuration,
    stack_policy,
)
from scripts.deploy.template import StackTemplate

TABLE = "AWS::DynamoDB::Table"


@pytest.mark.parametrize(
    ("change", "risky"),
    [
        # Dynamic: CloudFormation cannot tell what happens to a stateful resource
        (ResourceChange("Dynamic", "T", TABLE), True),
        (ResourceChange("Dynamic", "F", "AWS::Lambda::Function"), False),
        # Whatever PolicyAction says: Retain orphans the old resource (the stack then points at
        # a new, empty one), and DynamoDB, SQS, KMS and log groups cannot snapshot (deleted)
        (ResourceChange("Remove", "T", TABLE, policy_action="Delete"), True),
        (ResourceChange("Remove", "T", TABLE, policy_action="Retain"), True),
        (ResourceChange("Remove", "T", TABLE, policy_action="Snapshot"), True),
        (ResourceChange("Modify", "T", TABLE, "True", "ReplaceAndDelete"), True),
        (ResourceChange("Modify", "T", TABLE, "True", "ReplaceAndRetain"), True),
        (ResourceChange("Modify", "T", TABLE, "Conditional", "ReplaceAndSnapshot"), True),
        (ResourceChange("Dynamic", "T", TABLE, policy_action="Retain"), True),
        (ResourceChange("Modify", "T", TABLE, "False"), False),
        (ResourceChange("Modify", "T", TABLE, "", "ReplaceAndRetain"), True),
        # The types that can snapshot hold data too: a snapshot is not the live database
        (ResourceChange("Remove", "D", "AWS::RDS::DBInstance", policy_action="Snapshot"), True),
        (ResourceChange("Modify", "V", "AWS::EC2::Volume", "True", "ReplaceAndSnapshot"), True),
        (ResourceChange("Modify", "V", "AWS::EC2::Volume", "False"), False),
        # A nested stack's removal takes its tables with it, and has no change set to walk
        (ResourceChange("Remove", "Inner", "AWS::CloudFormation::Stack"), True),
        (ResourceChange("Remove", "Inner", "AWS::CloudFormation::Stack", policy_action="Retain"), True),
        (ResourceChange("Modify", "Inner", "AWS::CloudFormation::Stack", "False"), False),
        (ResourceChange("Dynamic", "Inner", "AWS::CloudFormation::Stack"), False),
        # ... but only on stateful types
        (ResourceChange("Remove", "F", "AWS::Lambda::Function", policy_action="Delete"), False),
        # The key (without it the data cannot be read) and log groups (the record) are stateful
        (ResourceChange("Remove", "K", "AWS::KMS::Key"), True),
        (ResourceChange("Modify", "K", "AWS::KMS::Key", "True"), True),
        (ResourceChange("Modify", "L", "AWS::Logs::LogGroup", "Conditional"), True),
        (ResourceChange("Modify", "L", "AWS::Logs::LogGroup", "False"), False),
        (ResourceChange("Add", "L", "AWS::Logs::LogGroup"), False),
        (ResourceChange("Modify", "Q", "AWS::SQS::Queue", "True"), True),
        (ResourceChange("Modify", "B", "AWS::S3::Bucket", "True"), True),
        (ResourceChange("Modify", "A", "AWS::KMS::Alias", "True"), False),
    ],
)
def test_guard_rules(change: ResourceChange, risky: bool) -> None:
    assert change.is_risky is risky


def test_rows_are_read_from_any_shape_aws_sends() -> None:
    # GIVEN a full row, a row missing every field, a null Replacement, and a nested stack's row
    full = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "T", "ResourceType": TABLE,
                               "Replacement": "True", "PolicyAction": "ReplaceAndDelete"}}  # fmt: skip
    nested = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Inner", "ResourceType":
                                 "AWS::CloudFormation::Stack", "ChangeSetId": "arn:nested"}}  # fmt: skip
    # WHEN read THEN every field lands where it belongs, missing ones empty
    assert ResourceChange.from_api(full) == ResourceChange("Modify", "T", TABLE, "True", "ReplaceAndDelete")
    assert ResourceChange.from_api({}) == ResourceChange("", "", "", "", "", "")
    nulls = {"ResourceChange": {"Replacement": None, "PolicyAction": None, "ChangeSetId": None}}
    assert ResourceChange.from_api(nulls) == ResourceChange("", "", "", "", "", "")
    assert ResourceChange.from_api(nested).nested_change_set == "arn:nested"
    # AND a nested stack's rows carry the path of stacks they are in
    assert ResourceChange.from_api(full, parent="Outer/Inner").logical_id == "Outer/Inner/T"


def test_change_set_lists_exactly_its_risky_rows() -> None:
    rows = (
        ResourceChange("Modify", "F", "AWS::Lambda::Function", "True"),
        ResourceChange("Dynamic", "T", TABLE),
        ResourceChange("Remove", "L", "AWS::Logs::LogGroup", policy_action="Retain"),
        ResourceChange("Modify", "Q", "AWS::SQS::Queue", "False"),
    )
    change_set = ChangeSet("arn", "id", "n", "UPDATE", "CREATE_COMPLETE", "", rows)
    assert change_set.risky == (rows[1], rows[2])
    assert not change_set.is_empty


@pytest.mark.parametrize(
    ("status", "reason", "empty"),
    [
        ("FAILED", "The submitted information didn't contain changes. Submit different information.", True),
        ("FAILED", "No updates are to be performed.", True),
        ("FAILED", "Template error: unresolved Ref", False),
        ("CREATE_COMPLETE", "No updates are to be performed.", False),
    ],
)
def test_only_a_failed_change_set_saying_so_is_empty(status: str, reason: str, empty: bool) -> None:
    assert ChangeSet("arn", "id", "n", "UPDATE", status, reason, ()).is_empty is empty
    assert is_empty_reason(reason) is (reason != "Template error: unresolved Ref")


def test_table_marks_what_may_lose_a_resource_and_says_what_happens_to_the_old_one() -> None:
    # GIVEN one row of each kind
    rows = [
        ResourceChange("Add", "New", "AWS::SQS::Queue"),
        ResourceChange("Remove", "Gone", "AWS::Lambda::Function"),
        ResourceChange("Dynamic", "Unknown", TABLE),
        ResourceChange("Modify", "Kept", TABLE, "True", "ReplaceAndRetain"),
        ResourceChange("Modify", "Same", TABLE, "False"),
        ResourceChange("Modify", "Maybe", TABLE, "Conditional"),
    ]
    # WHEN rendered with colour
    lines = format_changes(rows, color=True).splitlines()
    # THEN removals, Dynamic rows and (possible) replacements are red; the rest are not
    red = [line.startswith("\033[1;31m") and line.endswith("\033[0m") for line in lines[2:]]
    assert red == [False, True, True, True, False, True]
    assert not any("\033[" in line for line in lines[:2])
    # AND the Replacement column says what is known: unknown for Dynamic, the policy action in brackets
    plain = format_changes(rows).splitlines()
    assert plain[4].split()[3:] == ["unknown", "(Dynamic)"]
    assert plain[5].split()[3:] == ["True", "(REPLACES)", "[ReplaceAndRetain]"]
    assert plain[6].split()[3:] == ["False"]
    assert plain[3].split()[3:] == ["-"]
    assert format_changes([]) == "(no resource changes)"
    # AND without colour (not a terminal) there is no escape code at all
    assert "\033" not in format_changes(rows) and "\033" not in format_changes(rows, color=False)


def test_table_columns_are_aligned_on_the_widest_cell() -> None:
    table = format_changes([ResourceChange("Add", "A", "AWS::SQS::Queue"),
                            ResourceChange("Remove", "LongerName", TABLE)])  # fmt: skip
    header, rule, first, second = table.splitlines()
    assert header == "Action  Logical ID  Type                  Replacement"
    assert rule == "------  ----------  --------------------  -----------"
    assert first == "Add     A           AWS::SQS::Queue       -"
    assert second == "Remove  LongerName  AWS::DynamoDB::Table  -"


def _template(resources: dict) -> StackTemplate:
    return StackTemplate.from_text(json.dumps({"Resources": resources}))


def _alarm(namespace: str, metric: str) -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": namespace, "MetricName": metric}}


def test_stack_policy_denies_replacing_or_deleting_every_table_of_the_template() -> None:
    # GIVEN a template with two tables (any names) and other resources
    template = _template({"Orders": {"Type": TABLE}, "Status": {"Type": TABLE}, "Q": {"Type": "AWS::SQS::Queue"}})
    # WHEN deriving its stack policy THEN updates are allowed except replacing/deleting the tables
    policy = json.loads(stack_policy(template) or "")
    assert policy == {"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*",
         "Resource": ["LogicalResourceId/Orders", "LogicalResourceId/Status"]},
    ]}  # fmt: skip
    # AND a template without tables gets no policy; the temporary one allows everything
    assert stack_policy(_template({"Q": {"Type": "AWS::SQS::Queue"}})) is None
    assert json.loads(ALLOW_ALL_POLICY) == {"Statement": [policy["Statement"][0]]}


def test_project_template_protects_its_tables_and_names_its_rollback_alarms() -> None:
    # GIVEN the project's template
    from scripts.deploy.project import synthesize
    from tracking_templates.names import Resources

    template = synthesize("prod")
    tables = template.resources_of_type(TABLE)
    # THEN the policy covers every table it declares, the tracking table among them
    assert Resources.TABLE in tables
    deny = json.loads(stack_policy(template) or "")["Statement"][1]
    assert deny["Resource"] == [f"LogicalResourceId/{t}" for t in tables]
    # AND its rollback triggers are the API 5XX and the functions' error alarms, nothing else
    assert rollback_alarm_ids(template) == {"Api5xxAlarm", "TrackingFunctionErrorsAlarm", "NotifierFunctionErrorsAlarm"}


def test_rollback_alarms_are_found_by_metric_not_by_name() -> None:
    template = _template({
        "A": _alarm("AWS/ApiGateway", "5XXError"),
        "B": _alarm("AWS/Lambda", "Errors"),
        "C": _alarm("AWS/ApiGateway", "4XXError"),
        "D": _alarm("AWS/Lambda", "Throttles"),
        "E": _alarm("AWS/SQS", "Errors"),
        "F": {"Type": "AWS::CloudWatch::Alarm"},
        "G": {"Type": "AWS::Lambda::Function", "Properties": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}},
    })  # fmt: skip
    assert rollback_alarm_ids(template) == {"A", "B"}


def test_rollback_configuration_points_at_the_stacks_own_account_region_and_partition() -> None:
    stack_id = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/app/1a2b"
    assert alarm_arn(stack_id, "tracking-api-5xx-prod") == (
        "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:tracking-api-5xx-prod"
    )
    config = rollback_configuration(stack_id, ["b", "a", "c", "d", "e", "f"], 500)
    # CloudFormation takes at most 5 triggers and 180 minutes
    assert [t["Arn"].rsplit(":", 1)[1] for t in config["RollbackTriggers"]] == ["a", "b", "c", "d", "e"]
    assert {t["Type"] for t in config["RollbackTriggers"]} == {"AWS::CloudWatch::Alarm"}
    assert config["MonitoringTimeInMinutes"] == 180
    assert rollback_configuration(stack_id, ["a"], 5)["MonitoringTimeInMinutes"] == 5
    assert rollback_configuration(stack_id, ["a"], 180)["MonitoringTimeInMinutes"] == 180


def test_environment_settings_choose_the_protection() -> None:
    from tracking_templates import settings_for

    assert (settings_for("prod").termination_protection, settings_for("prod").rollback_monitoring_minutes) == (True, 5)
    assert (settings_for("dev").termination_protection, settings_for("dev").rollback_monitoring_minutes) == (False, 0)
    assert settings_for("staging").termination_protection is False


@pytest.mark.parametrize(("minutes", "valid"), [(-1, False), (0, True), (180, True), (181, False)])
def test_rollback_monitoring_is_what_cloudformation_accepts(minutes: int, valid: bool) -> None:
    from dataclasses import replace

    from tracking_templates import settings_for
    from tracking_templates.settings import SettingsError

    if valid:
        assert replace(settings_for("dev"), rollback_monitoring_minutes=minutes).rollback_monitoring_minutes == minutes
    else:
        with pytest.raises(SettingsError, match="rollback_monitoring_minutes not in 0..180"):
            replace(settings_for("dev"), rollback_monitoring_minutes=minutes)


def test_change_set_names_say_when_and_are_unique() -> None:
    from datetime import datetime, timezone

    from scripts.deploy.changeset import new_change_set_name

    when = datetime(2026, 11, 28, 9, 5, 7, tzinfo=timezone.utc)
    name = new_change_set_name(now=when)
    prefix, stamp, suffix = name.split("-")
    assert (prefix, stamp, len(suffix)) == ("deploy", "20261128090507", 8)
    assert int(suffix, 16) >= 0
    assert new_change_set_name("plan", when).startswith("plan-20261128090507-")
    assert new_change_set_name(now=when) != name
    # A name CloudFormation would refuse is never sent
    with pytest.raises(ValueError, match=r"^invalid change set name '1x-20261128090507-[0-9a-f]{8}'$"):
        new_change_set_name("1x", when)
    with pytest.raises(ValueError):
        new_change_set_name("p" * 120, when)
    assert len(new_change_set_name("p" * 104, when)) == 128


def test_the_policy_text_is_stable() -> None:
    # GetStackPolicy gives back the text that was set: the same template always gives the same text
    template = _template({"B": {"Type": TABLE}, "A": {"Type": TABLE}})
    assert stack_policy(template) == json.dumps(json.loads(stack_policy(template) or ""), sort_keys=True)
    assert '"Resource": ["LogicalResourceId/A", "LogicalResourceId/B"]' in (stack_policy(template) or "")


@pytest.mark.parametrize(
    ("default", "sent", "protected", "minutes"),
    [
        ("prod", {}, True, 5),  # a --template-file for prod, no --env: its own Environment
        ("dev", {"Environment": "prod"}, True, 5),  # --env prod wins over the default
        ("prod", {"Environment": "qa"}, False, 0),  # any other env: dev's profile
        ({"Ref": "X"}, {}, False, 0),  # not a name: dev's
        (None, {}, False, 0),  # no Environment parameter at all
    ],
)
def test_protection_follows_the_environment_being_deployed(default: object, sent: dict, protected: bool,
                                                           minutes: int) -> None:  # fmt: skip
    from scripts.deploy.project import protection_settings

    parameters = {} if default is None else {"Environment": {"Type": "String", "Default": default}}
    template = StackTemplate.from_text(json.dumps({"Parameters": parameters, "Resources": {}}))
    settings = protection_settings(template, sent)
    assert (settings.termination_protection, settings.rollback_monitoring_minutes) == (protected, minutes)


def test_change_set_names_are_stamped_in_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from datetime import datetime, timedelta, timezone

    from scripts.deploy.changeset import new_change_set_name

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local stamp would be a day off
    time.tzset()
    try:
        before = datetime.now(timezone.utc).replace(microsecond=0)
        stamp = datetime.strptime(new_change_set_name().split("-")[1], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
        assert before <= stamp <= before + timedelta(seconds=5)
    finally:
        monkeypatch.undo()
        time.tzset()
