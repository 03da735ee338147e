"""The functions and the stream mapping: runtime, environment, sizing, failure handling."""

from __future__ import annotations

import pytest

from tracking_templates import compute as compute_module
from tracking_templates import sources
from tracking_templates.names import FUNCTION_CODE_KEY_PARAMS, FUNCTION_CODE_VERSION_PARAMS, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, Params, Resources
from tracking_templates.settings import settings_for

from .conftest import ENVIRONMENTS


def _fn(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id]["Properties"]


@pytest.mark.parametrize(
    ("logical_id", "env_module", "code_dir"),
    [(Resources.API_FUNCTION, sources.tracking_env, "tracking"), (Resources.NOTIFIER_FUNCTION, sources.notifier_env, "notifier")],
)
def test_environment_is_exactly_what_the_code_reads(dev: dict, logical_id: str, env_module, code_dir: str) -> None:
    # GIVEN a function and the env module its code reads names from
    props = _fn(dev, logical_id)
    # THEN the template sets exactly those names, never a reserved one
    variables = props["Environment"]["Variables"]
    assert sorted(variables) == sorted(env_module().ALL)
    assert not any(name.startswith("AWS_") for name in variables)
    # AND the code comes from the bucket, the function's own key parameter and, when the deploy
    # passes one, the object version it uploaded
    version_param = FUNCTION_CODE_VERSION_PARAMS[code_dir]
    assert props["Code"] == {
        "S3Bucket": {"Ref": Params.CODE_BUCKET},
        "S3Key": {"Ref": FUNCTION_CODE_KEY_PARAMS[code_dir]},
        "S3ObjectVersion": {"Fn::If": [f"Has{version_param}", {"Ref": version_param}, {"Ref": "AWS::NoValue"}]},
    }
    assert dev["Conditions"][f"Has{version_param}"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": version_param}, ""]}]}
    assert props["Handler"] == "handler.main"
    assert props["Runtime"] == LAMBDA_RUNTIME and props["Architectures"] == [LAMBDA_ARCHITECTURE]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [Resources.KEY, "Arn"]}


def test_runtime_is_current() -> None:
    version = tuple(int(p) for p in LAMBDA_RUNTIME.removeprefix("python").split("."))
    assert version >= (3, 12)


def test_api_function_environment_values(dev: dict) -> None:
    t = sources.tracking_env()
    variables = _fn(dev, Resources.API_FUNCTION)["Environment"]["Variables"]
    assert variables[t.TABLE_NAME] == {"Ref": Resources.TABLE}
    assert variables[t.ENVIRONMENT] == {"Ref": Params.ENVIRONMENT}
    assert variables[t.FEATURE_FLAGS_PARAM] == {"Ref": Resources.FEATURE_FLAGS_PARAM}
    # The listing's table, index and shard count; no variable for parameters the code never reads
    assert variables[t.STATE_TABLE_NAME] == {"Ref": Resources.STATE_TABLE}
    assert variables[t.STATE_INDEX_NAME] == "CurrentStatusIndex"
    assert variables[t.LISTING_SHARDS] == "2"
    assert not {"CONFIG_PARAM", "DB_PARAM"} & set(variables)


def test_notifier_environment_values(templates: dict) -> None:
    n = sources.notifier_env()
    variables = _fn(templates["prod"], Resources.NOTIFIER_FUNCTION)["Environment"]["Variables"]
    assert variables[n.TOPIC_ARN] == {"Ref": Resources.TOPIC}
    assert variables[n.NOTIFY_STATUSES] == n.DEFAULT_NOTIFY_STATUSES == "delivered,failed"
    assert variables[n.FEATURE_FLAGS_PARAM] == {"Ref": Resources.FEATURE_FLAGS_PARAM}
    assert variables[n.STATE_TABLE_NAME] == {"Ref": Resources.STATE_TABLE}
    assert variables[n.LISTING_SHARDS] == "16"  # prod


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sizing_follows_settings(env: str, templates: dict) -> None:
    settings = settings_for(env)
    api = _fn(templates[env], Resources.API_FUNCTION)
    notifier = _fn(templates[env], Resources.NOTIFIER_FUNCTION)
    assert (api["MemorySize"], api["Timeout"]) == (512, 30)
    assert api["ReservedConcurrentExecutions"] == settings.api_function.reserved_concurrency
    assert notifier["ReservedConcurrentExecutions"] == settings.notifier_function.reserved_concurrency
    assert notifier["MemorySize"] == settings.notifier_function.memory_mb


def test_api_function_dead_letters_to_the_queue_and_logs_to_its_group(dev: dict) -> None:
    props = _fn(dev, Resources.API_FUNCTION)
    assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [Resources.DLQ, "Arn"]}}
    assert props["FunctionName"] == {"Fn::Sub": "tracking-processor-${Environment}"}
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": "TrackingFunctionLogGroup"}}
    assert _fn(dev, Resources.NOTIFIER_FUNCTION)["FunctionName"] == {"Fn::Sub": "tracking-notifier-${Environment}"}


def test_stream_mapping_reports_partial_failures_and_gives_up_into_the_dlq(dev: dict) -> None:
    # GIVEN the event source mapping
    mapping = dev["Resources"][Resources.STREAM_MAPPING]["Properties"]
    # THEN it reads this table's stream into the notifier's alias, partial batches, bounded retries
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [Resources.TABLE, "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": Resources.NOTIFIER_ALIAS}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 86400
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [Resources.DLQ, "Arn"]}}}


def test_environment_drift_is_a_build_error() -> None:
    # GIVEN values for a name list that lacks one of them
    # WHEN the function environment is built THEN the drift is named
    with pytest.raises(ValueError, match=r"not set \['NEW_NAME'\], not read \['OLD_NAME'\]"):
        compute_module._environment(("NEW_NAME",), {"OLD_NAME": "x"}, "tracking function")
