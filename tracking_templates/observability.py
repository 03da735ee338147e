"""Alarms (every one notifies the topic) and a dashboard whose every metric has its dimensions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from troposphere import GetAtt, Ref, Sub
from troposphere.awslambda import Function, Version
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.sns import Topic

from .compute import Compute
from .inputs import Inputs
from .names import DASHBOARD_NAME, LIVE_ALIAS, REST_API_NAME, STATE_INDEX, Resources
from .notifications import Notifications
from .settings import Settings
from .storage import Storage

if TYPE_CHECKING:  # api.py needs this module's release alarms (through releases.py)
    from .api import Api

PERIOD_S = 300
# A release is judged minute by minute: a canary's first minutes must be enough to roll it back.
RELEASE_PERIOD_S = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseAlarms:
    """The alarms CodeDeploy watches while it shifts each function's alias (any one rolls back)."""

    # The API function's new version's errors, and the stage's 5XX (old and new version alike).
    api: tuple[Alarm, ...]
    notifier: tuple[Alarm, ...]

    @property
    def all(self) -> tuple[Alarm, ...]:
        """Every release alarm once, in a fixed order."""
        return tuple(dict.fromkeys((*self.api, *self.notifier)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Observability:
    """The alarms and the dashboard."""

    alarms: tuple[Alarm, ...]
    dashboard: Dashboard


@dataclass(frozen=True, slots=True)
class _Metric:
    """One CloudWatch metric: namespace, name and dimensions."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, object], ...]


def _alarm(
    logical_id: str,
    name: str,
    description: str,
    metric: _Metric,
    statistic: str,
    threshold: float,
    topic,
    period: int = PERIOD_S,
    periods: int = 1,
) -> Alarm:
    return Alarm(
        logical_id,
        AlarmName=Sub(f"tracking-{name}-${{Environment}}"),
        AlarmDescription=description,
        Namespace=metric.namespace,
        MetricName=metric.name,
        Dimensions=[MetricDimension(Name=k, Value=v) for k, v in metric.dimensions],
        Statistic=statistic,
        Period=period,
        EvaluationPeriods=periods,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        # No traffic is not an incident.
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(topic)],
        OKActions=[Ref(topic)],
    )


def _new_version_errors(
    logical_id: str, name: str, what: str, function: Function, version: Version, threshold: int, topic: Topic
) -> Alarm:
    # Lambda publishes invocations through an alias under FunctionName + Resource (`name:alias`) +
    # ExecutedVersion: this metric counts only the version being released, not the one it replaces.
    dims = (
        ("FunctionName", Ref(function)),
        ("Resource", Sub(f"${{Function}}:{LIVE_ALIAS}", Function=Ref(function))),
        ("ExecutedVersion", GetAtt(version, "Version")),
    )
    return _alarm(logical_id, name, f"The released version of {what} fails (CodeDeploy rolls it back)",
                  _Metric("AWS/Lambda", "Errors", dims), "Sum", threshold, topic, period=RELEASE_PERIOD_S)


def release_alarms(settings: Settings, inputs: Inputs, notes: Notifications, funcs: Compute) -> ReleaseAlarms:
    """Errors of each function's new version, and the API's 5XX, for CodeDeploy to watch."""
    a = settings.alarms
    # The dimensions API Gateway publishes under: the API's name and the stage's name (the values
    # the REST API and the Stage are given; the alarm must exist before the API refers to the alias).
    api_dims = (("ApiName", Sub(REST_API_NAME)), ("Stage", Ref(inputs.environment)))
    api_5xx = _alarm("Api5xxAlarm", "api-5xx", "The API answers 5XX",
                     _Metric("AWS/ApiGateway", "5XXError", api_dims), "Sum", a.api_5xx_errors, notes.topic,
                     period=RELEASE_PERIOD_S)
    api_errors = _new_version_errors(Resources.API_NEW_VERSION_ERRORS_ALARM, "release-errors", "the API function",
                                     funcs.api_function, funcs.api_version, a.new_version_errors, notes.topic)
    notifier_errors = _new_version_errors(
        Resources.NOTIFIER_NEW_VERSION_ERRORS_ALARM, "notifier-release-errors", "the notifier function",
        funcs.notifier_function, funcs.notifier_version, a.new_version_errors, notes.topic,
    )
    return ReleaseAlarms(api=(api_errors, api_5xx), notifier=(notifier_errors,))


def observability(
    settings: Settings, store: Storage, notes: Notifications, funcs: Compute, gateway: Api, release: ReleaseAlarms
) -> Observability:
    """The original's four alarms with their dimensions, plus errors, DLQ depth and iterator age."""
    a = settings.alarms
    topic = notes.topic
    # The dimensions API Gateway publishes under: the API's name and the stage's name.
    api_dims = (("ApiName", gateway.rest_api.Name), ("Stage", gateway.stage.StageName))
    api_fn = (("FunctionName", Ref(funcs.api_function)),)
    notifier_fn = (("FunctionName", Ref(funcs.notifier_function)),)
    queue = (("QueueName", GetAtt(store.dlq, "QueueName")),)
    table = (("TableName", Ref(store.table)),)
    state_table = (("TableName", Ref(store.state_table)),)
    state_index = (*state_table, ("GlobalSecondaryIndexName", STATE_INDEX))

    def api_metric(name: str) -> _Metric:
        return _Metric("AWS/ApiGateway", name, api_dims)

    def lambda_metric(name: str, dims=api_fn) -> _Metric:
        return _Metric("AWS/Lambda", name, dims)

    alarms = (
        _alarm("Api4xxAlarm", "api-4xx", "Too many 4XX answers from the API",
               api_metric("4XXError"), "Sum", a.api_4xx_errors, topic, periods=2),
        *release.all,
        _alarm("ApiLatencyAlarm", "api-latency", "API latency is high (average, ms)",
               api_metric("Latency"), "Average", a.api_latency_ms, topic, periods=2),
        _alarm("TrackingFunctionThrottlesAlarm", "lambda-throttle", "The API function is throttled",
               lambda_metric("Throttles"), "Sum", a.lambda_throttles, topic),
        _alarm("TrackingFunctionErrorsAlarm", "lambda-errors", "The API function fails",
               lambda_metric("Errors"), "Sum", a.lambda_errors, topic),
        _alarm("NotifierFunctionErrorsAlarm", "notifier-errors", "The notifier function fails",
               lambda_metric("Errors", notifier_fn), "Sum", a.lambda_errors, topic),
        _alarm("NotifierIteratorAgeAlarm", "notifier-iterator-age",
               "The notifier falls behind the table's stream (oldest record age, ms)",
               lambda_metric("IteratorAge", notifier_fn), "Maximum", a.iterator_age_ms, topic),
        # A throttled index write holds back its table's writes too (GSI back-pressure).
        _alarm("TrackingTableThrottlesAlarm", "table-throttles", "Writes to the tracking table are throttled",
               _Metric("AWS/DynamoDB", "WriteThrottleEvents", table), "Sum", a.table_write_throttles, topic),
        _alarm("StateTableThrottlesAlarm", "state-table-throttles", "Writes to the shipments' state are throttled",
               _Metric("AWS/DynamoDB", "WriteThrottleEvents", state_table), "Sum", a.table_write_throttles, topic),
        _alarm("StateIndexThrottlesAlarm", "state-index-throttles",
               "Writes to the listing index are throttled (a hot shard: raise listing_shards)",
               _Metric("AWS/DynamoDB", "WriteThrottleEvents", state_index), "Sum", a.table_write_throttles, topic),
        _alarm("DeadLetterQueueAlarm", "dlq-depth", "Events failed for good and wait in the dead-letter queue",
               _Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue), "Maximum", a.dlq_messages, topic),
    )

    widgets = [
        ("API Gateway", [(api_metric(n), "Sum") for n in ("Count", "4XXError", "5XXError")]
         + [(api_metric("Latency"), "Average")]),
        ("API function", [(lambda_metric(n), "Sum") for n in ("Invocations", "Errors", "Throttles")]
         + [(lambda_metric("Duration"), "Average")]),
        ("Notifier", [(lambda_metric(n, notifier_fn), "Sum") for n in ("Invocations", "Errors")]
         + [(lambda_metric("IteratorAge", notifier_fn), "Maximum")]),
        ("DynamoDB", [(_Metric("AWS/DynamoDB", n, table), "Sum")
                      for n in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "UserErrors")]),
        ("Shipments' current state", [(_Metric("AWS/DynamoDB", n, state_table), "Sum")
                                      for n in ("ConsumedWriteCapacityUnits", "WriteThrottleEvents")]),
        ("Dead-letter queue", [(_Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue), "Maximum")]),
    ]
    dashboard = Dashboard(
        Resources.DASHBOARD,
        DashboardName=Sub(DASHBOARD_NAME),
        DashboardBody=_dashboard_body(widgets),
    )
    return Observability(alarms=alarms, dashboard=dashboard)


def _dashboard_body(widgets: list[tuple[str, list[tuple[_Metric, str]]]]) -> Sub:
    # The body is one JSON string; values known only at deploy time go in as ${Var} of a Sub,
    # one variable per distinct dimension value (named after the dimension).
    variables: dict[str, object] = {}
    by_value: dict[str, str] = {}

    def placeholder(dim_name: str, value: object) -> str:
        key = json.dumps(value.to_dict(), sort_keys=True)  # type: ignore[attr-defined]
        if key not in by_value:
            by_value[key] = f"{dim_name}{sum(name.startswith(dim_name) for name in variables)}"
            variables[by_value[key]] = value
        return "${" + by_value[key] + "}"

    body_widgets = []
    for index, (title, metrics) in enumerate(widgets):
        rows = []
        for metric, stat in metrics:
            row: list[object] = [metric.namespace, metric.name]
            for dim_name, dim_value in metric.dimensions:
                row += [dim_name, placeholder(dim_name, dim_value)]
            row.append({"stat": stat})
            rows.append(row)
        body_widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "metrics": rows,
                    "period": PERIOD_S,
                    "region": "${AWS::Region}",
                    "view": "timeSeries",
                },
            }
        )
    return Sub(json.dumps({"widgets": body_widgets}, sort_keys=True, separators=(",", ":")), **variables)
