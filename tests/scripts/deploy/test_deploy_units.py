"""Small pieces of the deployer: templates, capabilities, change set rows and names."""

from __future__ import annotations

import json
import re

import pytest

from scripts.cli import parse_pairs
from scripts.deploy.changeset import ResourceChange, format_changes, new_change_set_name
from scripts.deploy.template import TEMPLATE_BODY_LIMIT, StackTemplate
from scripts.errors import UsageError

from ..deploy_support import queue_template


ALL_THREE = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def _template(resources: dict, **top: object) -> StackTemplate:
    return StackTemplate.from_text(json.dumps({"Resources": resources, **top}))


@pytest.mark.parametrize(
    ("resources", "top", "expected"),
    [
        ({"Q": {"Type": "AWS::SQS::Queue"}}, {}, []),
        ({"R": {"Type": "AWS::IAM::Role", "Properties": {}}}, {}, ["CAPABILITY_IAM"]),
        ({"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}, {}, ["CAPABILITY_NAMED_IAM"]),
        # What a transform or nested stack holds is unseen: all three, as CDK passes them
        ({"Q": {"Type": "AWS::SQS::Queue"}}, {"Transform": "AWS::Serverless-2016-10-31"}, ALL_THREE),
        ({"N": {"Type": "AWS::CloudFormation::Stack"}}, {}, ALL_THREE),
        ({"M": {"Type": "AWS::CloudFormation::Macro"}}, {}, ALL_THREE),
        ({"U": {"Type": "AWS::IAM::User", "Properties": {"UserName": "u"}}}, {}, ["CAPABILITY_NAMED_IAM"]),
        ({"G": {"Type": "AWS::IAM::Group", "Properties": {"GroupName": "g"}}}, {}, ["CAPABILITY_NAMED_IAM"]),
        ({"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Description": "d"}}}, {}, ["CAPABILITY_IAM"]),
    ],
)
def test_capabilities_follow_what_the_template_contains(resources: dict, top: dict, expected: list) -> None:
    # GIVEN a template WHEN asking what it needs THEN exactly the capabilities it requires
    assert _template(resources, **top).capabilities() == expected


def test_project_template_needs_explicit_iam_capability() -> None:
    # GIVEN the project's template (roles with names derived from the environment, or not)
    from scripts.deploy.project import synthesize

    template = synthesize("dev")
    # THEN some IAM capability is requested, and the template fits what CloudFormation takes
    assert set(template.capabilities()) & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}
    assert {"Environment", "CodeBucket", "CodeKey", "NotifierCodeKey"} <= template.parameters


def test_yaml_templates_with_short_forms_are_read() -> None:
    # GIVEN a YAML template using !Ref and !Sub
    text = "Parameters:\n  Name: {Type: String}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n" \
           "    Properties:\n      QueueName: !Sub '${Name}-q'\n      Tags: [{Key: k, Value: !Ref Name}]\n"
    # WHEN parsed THEN the parameters and resources are known
    template = StackTemplate.from_text(text)
    assert template.parameters == {"Name"}
    assert template.document["Resources"]["Q"]["Properties"]["QueueName"] == {"Fn::Sub": "${Name}-q"}


def test_size_limits() -> None:
    # GIVEN templates either side of the 51,200-byte TemplateBody limit
    small = StackTemplate.from_text(queue_template())
    big = StackTemplate.from_text(queue_template(padding=TEMPLATE_BODY_LIMIT))
    # THEN only the big one must travel through S3
    assert not small.needs_s3 and big.needs_s3
    # AND over 1 MB is refused outright
    with pytest.raises(UsageError, match="1 MB"):
        StackTemplate.from_text(queue_template(padding=1_048_577))


def test_not_a_template_is_a_usage_error() -> None:
    # WHEN the text has no Resources THEN a usage error
    with pytest.raises(UsageError, match="no Resources"):
        StackTemplate.from_text('{"Parameters": {}}')


def test_unknown_parameter_names_are_refused_with_the_declared_ones() -> None:
    # GIVEN a template declaring QueueName WHEN overriding another THEN a usage error listing both
    with pytest.raises(UsageError, match="Nope.*declared: QueueName"):
        StackTemplate.from_text(queue_template()).check_parameters({"Nope": "1"})


@pytest.mark.parametrize(
    ("change", "risky"),
    [
        (ResourceChange("Modify", "T", "AWS::DynamoDB::Table", "True"), True),
        (ResourceChange("Modify", "T", "AWS::DynamoDB::Table", "Conditional"), True),
        (ResourceChange("Modify", "T", "AWS::DynamoDB::Table", "False"), False),
        (ResourceChange("Remove", "Q", "AWS::SQS::Queue"), True),
        (ResourceChange("Remove", "B", "AWS::S3::Bucket"), True),
        (ResourceChange("Add", "B", "AWS::S3::Bucket"), False),
        (ResourceChange("Modify", "F", "AWS::Lambda::Function", "True"), False),
        (ResourceChange("Remove", "F", "AWS::Lambda::Function"), False),
    ],
)
def test_only_replacing_or_removing_stateful_resources_is_risky(change: ResourceChange, risky: bool) -> None:
    assert change.is_risky is risky


def test_table_lists_every_change_and_marks_replacements() -> None:
    # GIVEN changes WHEN formatted THEN one aligned row each, replacements marked
    table = format_changes([
        ResourceChange("Add", "Queue", "AWS::SQS::Queue"),
        ResourceChange("Modify", "Table", "AWS::DynamoDB::Table", "True"),
    ])  # fmt: skip
    lines = table.splitlines()
    assert lines[0].split() == ["Action", "Logical", "ID", "Type", "Replacement"]
    assert lines[2].split() == ["Add", "Queue", "AWS::SQS::Queue", "-"]
    assert lines[3].split() == ["Modify", "Table", "AWS::DynamoDB::Table", "True", "(REPLACES)"]
    assert "\033[" in format_changes([ResourceChange("Modify", "T", "AWS::DynamoDB::Table", "True")], color=True)


def test_change_set_names_are_valid_and_unique() -> None:
    names = {new_change_set_name() for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name) for name in names)


def test_pairs_keep_equals_signs_in_values_and_refuse_the_rest() -> None:
    assert parse_pairs(["A=1", "B=x=y", "C="], "--tags") == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(UsageError, match="--tags: expected KEY=VALUE, got 'novalue'"):
        parse_pairs(["A=1", "novalue"], "--tags")
    # A parameter value typed without its key may be a password: never repeated
    with pytest.raises(UsageError) as refused:
        parse_pairs(["A=1", "hunter2", "B=2"], "--parameter-overrides", echo=False)
    assert str(refused.value) == "--parameter-overrides: expected KEY=VALUE, got item 2 (not shown: it may be a secret)"
    with pytest.raises(UsageError, match="got item 1 "):
        parse_pairs(["=hunter2"], "--parameter-overrides", echo=False)


@pytest.mark.parametrize(
    ("declaration", "value", "problem"),
    [
        ({"Type": "String", "AllowedPattern": "^[a-z]+$"}, "abc", None),
        ({"Type": "String", "AllowedPattern": "^[a-z]+$"}, "BAD", "must match the pattern ^[a-z]+$"),
        # CloudFormation matches the whole value, anchors or not
        ({"Type": "String", "AllowedPattern": "[a-z]+"}, "abc1", "must match the pattern [a-z]+"),
        ({"Type": "String", "AllowedValues": ["a", "b"]}, "c", "must be one of a, b"),
        ({"Type": "String", "AllowedValues": [True, False]}, "true", None),
        ({"Type": "String", "MinLength": 2}, "a", "at least 2 characters"),
        ({"Type": "String", "MaxLength": "3"}, "abcd", "at most 3 characters"),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 10}, "11", "must be at most 10"),
        ({"Type": "Number"}, "ten", "must be a number"),
        ({"Type": "Number", "AllowedValues": [1, 2]}, "2", None),
        ({"Type": "CommaDelimitedList", "AllowedPattern": "^x$"}, "a,b", None),
    ],
)
def test_parameter_values_are_checked_against_their_constraints(
    declaration: dict, value: str, problem: str | None
) -> None:
    # GIVEN a parameter declaration WHEN checking a value THEN what CloudFormation would refuse
    from scripts.deploy.template import constraint_problem

    found = constraint_problem(declaration, value)
    assert found == problem if problem is None else problem in (found or "")


def test_project_template_refuses_an_environment_override_its_pattern_refuses() -> None:
    # GIVEN the project's template, whose Environment has an AllowedPattern
    from scripts.deploy.project import synthesize

    template = synthesize("dev")
    # WHEN overriding it with a value outside the pattern THEN a usage error naming both
    with pytest.raises(UsageError, match="parameter Environment='BAD': must match the pattern"):
        template.check_parameters({"Environment": "BAD"})
    # AND valid values pass
    template.check_parameters({"Environment": "qa", "NotificationEmail": ""})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"Resources": ', "is not valid JSON: Expecting value: line 1 column 15"),
        ("Resources:\n  Q: [\n", "is neither JSON nor YAML: expected the node content, but found '<stream end>' (line 3, column 1)"),
    ],
)
def test_unparsable_template_is_one_line_naming_the_problem_and_where(text: str, expected: str) -> None:
    # GIVEN broken JSON or YAML WHEN read THEN one line (stderr must stay one line) saying what and where
    with pytest.raises(UsageError) as refused:
        StackTemplate.from_text(text, "t")
    assert expected in str(refused.value) and "\n" not in str(refused.value)


def test_parameter_without_default_or_value_is_a_usage_error_unless_the_stack_has_it() -> None:
    # GIVEN a template whose QueueName has no default
    from scripts.deploy.deployer import Deployer, DeployRequest, StackInfo

    document = json.loads(queue_template())
    del document["Parameters"]["QueueName"]["Default"]
    request = DeployRequest(stack_name="shop", template=StackTemplate.from_text(json.dumps(document)))
    deployer = Deployer(cfn=None)
    # WHEN creating without a value THEN refused before CreateChangeSet, saying what to pass
    with pytest.raises(UsageError, match=r"no value for QueueName \(no default .*\): pass --parameter-overrides QueueName="):
        deployer.parameter_list(request, "CREATE", None)
    # AND an update of a stack that has it keeps its previous value
    stack = StackInfo("id", "shop", "UPDATE_COMPLETE", parameters=frozenset({"QueueName"}))
    assert deployer.parameter_list(request, "UPDATE", stack) == [{"ParameterKey": "QueueName", "UsePreviousValue": True}]
