"""IAM: least privilege, checked over every role the template makes."""

from __future__ import annotations

import json

import pytest

from tracking_templates.names import Resources

from .conftest import ENVIRONMENTS, resources_of_type

# Actions AWS defines without a resource type: only these may have Resource "*".
STAR_RESOURCE_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}


def _statements(template: dict):
    for name, role in resources_of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def _actions(template: dict, role: str) -> set[str]:
    return {a for name, s in _statements(template) if name == role for a in s["Action"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_wildcard_action_and_no_scan(env: str, templates: dict) -> None:
    # GIVEN every statement of every inline role policy
    statements = list(_statements(templates[env]))
    assert statements
    for role, statement in statements:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            # THEN no `*`, no `service:*`, no wildcard of any kind, and never a Scan
            assert "*" not in action, (role, action)
            assert action != "dynamodb:Scan", role


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_star_resources_only_where_aws_has_no_resource_type(env: str, templates: dict) -> None:
    for role, statement in _statements(templates[env]):
        resources = statement["Resource"]
        if "*" in resources:
            assert resources == ["*"], role
            assert set(statement["Action"]) <= STAR_RESOURCE_ALLOWED, (role, statement["Action"])


def test_api_role_has_exactly_what_the_handler_calls(dev: dict) -> None:
    assert _actions(dev, "TrackingFunctionRole") == {
        "dynamodb:PutItem",
        "dynamodb:Query",
        # powertools' idempotency records (on that table only: see below)
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "ssm:GetParameter",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def test_notifier_role_has_exactly_what_the_stream_consumer_needs(dev: dict) -> None:
    assert _actions(dev, "NotifierFunctionRole") == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "dynamodb:PutItem",  # the current-state projection (on the state table only)
        "sns:Publish",
        "sqs:SendMessage",
        "ssm:GetParameter",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def _statement(template: dict, role: str, sid: str) -> dict:
    return next(s for name, s in _statements(template) if name == role and s["Sid"] == sid)


def test_resources_are_this_stacks_own(dev: dict) -> None:
    # GIVEN the statements that name resources
    table = _statement(dev, "TrackingFunctionRole", "TableWriteAndQuery")
    params = _statement(dev, "TrackingFunctionRole", "ParametersRead")
    stream = _statement(dev, "NotifierFunctionRole", "TableStreamRead")
    flags = _statement(dev, "NotifierFunctionRole", "ParametersRead")
    publish = _statement(dev, "NotifierFunctionRole", "TopicPublish")
    # THEN each names this stack's table, index, parameters, stream and topic
    assert table["Resource"] == [{"Fn::GetAtt": [Resources.TABLE, "Arn"]}]
    referenced = {p["Fn::Sub"][1]["Name"]["Ref"] for p in params["Resource"]}
    # The API reads only the feature flags; the config and DB-endpoint parameters are published, never read
    assert referenced == {Resources.FEATURE_FLAGS_PARAM}
    assert all(p["Fn::Sub"][0].startswith("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter")
               for p in params["Resource"])
    assert [p["Fn::Sub"][1]["Name"]["Ref"] for p in flags["Resource"]] == [Resources.FEATURE_FLAGS_PARAM]
    assert stream["Resource"] == [{"Fn::GetAtt": [Resources.TABLE, "StreamArn"]}]
    assert publish["Resource"] == [{"Ref": Resources.TOPIC}]


def test_listing_grants_are_the_index_arn_and_a_put_on_the_state_table(dev: dict) -> None:
    # GIVEN the API's index grant and the notifier's projection grant
    index = _statement(dev, "TrackingFunctionRole", "IndexQuery")
    state = _statement(dev, "NotifierFunctionRole", "StateWrite")
    # THEN the API may Query exactly the listing index (its ARN, not index/*, not the state table)
    assert index["Action"] == ["dynamodb:Query"]
    assert index["Resource"] == [
        {"Fn::Sub": ["${Table}/index/CurrentStatusIndex", {"Table": {"Fn::GetAtt": [Resources.STATE_TABLE, "Arn"]}}]}
    ]
    # AND the notifier may only put items into the state table (the conditional write needs no more)
    assert state["Action"] == ["dynamodb:PutItem"]
    assert state["Resource"] == [{"Fn::GetAtt": [Resources.STATE_TABLE, "Arn"]}]
    # AND no other statement of either role names the state table
    named = [
        (role, s["Sid"])
        for role, s in _statements(dev)
        if Resources.STATE_TABLE in json.dumps(s["Resource"])
    ]
    assert sorted(named) == [("NotifierFunctionRole", "StateWrite"), ("TrackingFunctionRole", "IndexQuery")]


def test_idempotency_grants_are_on_the_idempotency_table_only(dev: dict) -> None:
    # GIVEN the API's idempotency grant
    records = _statement(dev, "TrackingFunctionRole", "IdempotencyRecords")
    # THEN exactly what powertools' layer calls, on that table alone
    assert records["Action"] == ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    assert records["Resource"] == [{"Fn::GetAtt": [Resources.IDEMPOTENCY_TABLE, "Arn"]}]
    # AND no other statement names it, and the notifier has nothing on it
    named = [(role, s["Sid"]) for role, s in _statements(dev) if Resources.IDEMPOTENCY_TABLE in json.dumps(s["Resource"])]
    assert named == [("TrackingFunctionRole", "IdempotencyRecords")]
    # AND the tracking table stays put-and-query only (no update, no delete of an update)
    table = _statement(dev, "TrackingFunctionRole", "TableWriteAndQuery")
    assert table["Action"] == ["dynamodb:PutItem", "dynamodb:Query"]


def test_each_function_writes_only_its_own_log_group(dev: dict) -> None:
    api_logs = _statement(dev, "TrackingFunctionRole", "OwnLogGroupWrite")
    notifier_logs = _statement(dev, "NotifierFunctionRole", "OwnLogGroupWrite")
    assert api_logs["Resource"] == [{"Fn::GetAtt": ["TrackingFunctionLogGroup", "Arn"]}]
    assert notifier_logs["Resource"] == [{"Fn::GetAtt": ["NotifierFunctionLogGroup", "Arn"]}]


def test_roles_are_assumed_only_by_their_service(dev: dict) -> None:
    for name, role in resources_of_type(dev, "AWS::IAM::Role").items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == ["sts:AssumeRole"]
        assert set(statement["Principal"]) == {"Service"}, name
        assert "RoleName" not in role["Properties"], "named roles would need CAPABILITY_NAMED_IAM"


def test_no_inline_policy_mentions_another_stack(dev: dict) -> None:
    text = json.dumps([s for _, s in _statements(dev)])
    assert "arn:aws:" not in text, "ARNs must be built with ${AWS::Partition}"
