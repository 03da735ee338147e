"""Alarms and the dashboard: the original metrics with their dimensions, all notifying the topic."""

from __future__ import annotations

import json
import re

from tracking_templates.names import Resources
from tracking_templates.settings import settings_for

from .conftest import ENVIRONMENTS, resources_of_type

TOPIC = {"Ref": Resources.TOPIC}
API_DIMS = [
    {"Name": "ApiName", "Value": {"Fn::Sub": "tracking-api-${Environment}"}},
    {"Name": "Stage", "Value": {"Ref": "Environment"}},
]


def _alarm(template: dict, metric: str, function: str | None = None) -> dict:
    """The one alarm on metric (of function): the unqualified function's, not a release alarm's."""
    found = [
        a["Properties"]
        for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
        and not any(d["Name"] == "ExecutedVersion" for d in a["Properties"]["Dimensions"])
        and (function is None or {"Name": "FunctionName", "Value": {"Ref": function}} in a["Properties"]["Dimensions"])
    ]
    assert len(found) == 1, (metric, function, len(found))
    return found[0]


def test_original_alarms_keep_their_metrics_and_thresholds(dev: dict) -> None:
    # (metric, namespace, statistic, threshold, period, periods)
    expected = [
        ("4XXError", "AWS/ApiGateway", "Sum", 10, 300, 2),
        ("5XXError", "AWS/ApiGateway", "Sum", 5, 60, 1),
        ("Latency", "AWS/ApiGateway", "Average", 1000, 300, 2),
    ]
    for metric, namespace, statistic, threshold, period, periods in expected:
        alarm = _alarm(dev, metric)
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == (namespace, statistic, threshold)
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (period, periods)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Dimensions"] == API_DIMS
    throttles = _alarm(dev, "Throttles", Resources.API_FUNCTION)
    assert (throttles["Threshold"], throttles["Period"], throttles["Statistic"]) == (10, 300, "Sum")


def test_new_alarms_watch_errors_dlq_and_iterator_age(templates: dict) -> None:
    for env in ENVIRONMENTS:
        t, a = templates[env], settings_for(env).alarms
        assert _alarm(t, "Errors", Resources.API_FUNCTION)["Threshold"] == a.lambda_errors
        assert _alarm(t, "Errors", Resources.NOTIFIER_FUNCTION)["Threshold"] == a.lambda_errors
        iterator = _alarm(t, "IteratorAge", Resources.NOTIFIER_FUNCTION)
        assert (iterator["Statistic"], iterator["Threshold"]) == ("Maximum", a.iterator_age_ms)
        dlq = _alarm(t, "ApproximateNumberOfMessagesVisible")
        assert dlq["Namespace"] == "AWS/SQS"
        assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [Resources.DLQ, "QueueName"]}}]
        assert dlq["Threshold"] == 0, "any message in the DLQ is news"


def test_throttled_writes_to_either_table_or_the_listing_index_alarm(dev: dict) -> None:
    alarms = {a["Properties"]["AlarmName"]["Fn::Sub"]: a["Properties"]
              for a in resources_of_type(dev, "AWS::CloudWatch::Alarm").values()}
    dims = {name: [(d["Name"], d["Value"]) for d in props["Dimensions"]]
            for name, props in alarms.items() if props["MetricName"] == "WriteThrottleEvents"}
    # THEN each table, and the listing index (whose throttles hold back the table), has its own alarm
    assert dims == {
        "tracking-table-throttles-${Environment}": [("TableName", {"Ref": Resources.TABLE})],
        "tracking-state-table-throttles-${Environment}": [("TableName", {"Ref": Resources.STATE_TABLE})],
        "tracking-state-index-throttles-${Environment}": [
            ("TableName", {"Ref": Resources.STATE_TABLE}), ("GlobalSecondaryIndexName", "CurrentStatusIndex")
        ],
    }
    for name in dims:
        assert alarms[name]["Namespace"] == "AWS/DynamoDB"
        assert (alarms[name]["Statistic"], alarms[name]["Threshold"]) == ("Sum", 0), name


def test_every_alarm_has_dimensions_and_notifies_the_topic(dev: dict) -> None:
    alarms = resources_of_type(dev, "AWS::CloudWatch::Alarm")
    # 11, plus each function's new-version errors (test_releases.py)
    assert len(alarms) == 13
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["Dimensions"], name
        assert props["AlarmActions"] == [TOPIC], name
        assert props["OKActions"] == [TOPIC], name
        assert props["TreatMissingData"] == "notBreaching"


def test_every_dashboard_metric_has_its_dimensions(dev: dict) -> None:
    # GIVEN the dashboard body and its Sub variables
    text, variables = dev["Resources"][Resources.DASHBOARD]["Properties"]["DashboardBody"]["Fn::Sub"]
    body = json.loads(text)
    required = {"AWS/ApiGateway": {"ApiName", "Stage"}, "AWS/Lambda": {"FunctionName"},
                "AWS/DynamoDB": {"TableName"}, "AWS/SQS": {"QueueName"}}
    seen = set()
    for widget in body["widgets"]:
        assert widget["properties"]["region"] == "${AWS::Region}"
        for row in widget["properties"]["metrics"]:
            namespace, _metric, *rest = row
            pairs = rest[:-1]
            assert isinstance(rest[-1], dict)
            names = set(pairs[0::2])
            # THEN each metric names the dimensions its namespace publishes under, with values
            assert names == required[namespace], row
            for value in pairs[1::2]:
                (var,) = re.fullmatch(r"\$\{(\w+)\}", value).groups()
                assert var in variables
            seen.add(namespace)
    assert seen == set(required)
    # AND the values are this stack's resources
    referenced = json.dumps(variables)
    for logical_id in (Resources.TABLE, Resources.STATE_TABLE, Resources.API_FUNCTION, Resources.NOTIFIER_FUNCTION, Resources.DLQ):
        assert logical_id in referenced
