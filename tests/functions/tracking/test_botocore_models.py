"""The trimmed botocore data: cut from the installed botocore, used by every client of ours, same endpoints, traced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tracking_api import aws, trimmed_data

from scripts.package import trim_botocore_models as trim

from .conftest import EVENTS_DIR, FUNCTION_DIR, reset_caches
from .stack import TABLE_NAME, provision

CALLED = {"dynamodb": {"PutItem", "Query"}, "ssm": {"GetParameter"}}


def test_committed_files_are_a_fresh_cut_of_the_installed_botocore():
    # GIVEN the models committed beside the function
    committed = Path(trimmed_data.DATA_DIR)
    # WHEN they are cut again from the botocore installed now
    fresh = trim.trimmed_data()
    # THEN they are the same files, byte for byte (else: python -m scripts.package.trim_botocore_models)
    on_disk = {p.relative_to(committed).as_posix(): p.read_text(encoding="utf-8") for p in committed.rglob("*.json")}
    assert sorted(on_disk) == sorted(fresh)
    for relative, text in fresh.items():
        assert on_disk[relative] == text, f"{relative} is stale: run python -m scripts.package.trim_botocore_models"
    assert trim.main(["--check", "--out", str(committed)]) == 0


def test_check_reports_a_stale_or_missing_model(tmp_path, capsys):
    # GIVEN a fresh cut in a folder, then one file changed
    assert trim.main(["--out", str(tmp_path)]) == 0
    assert trim.main(["--check", "--out", str(tmp_path)]) == 0
    model = next(tmp_path.rglob("service-2.json"))
    model.write_text(model.read_text(encoding="utf-8").replace('"PutItem"', '"PutItems"'), encoding="utf-8")
    # WHEN it is checked / THEN it is reported
    assert trim.main(["--check", "--out", str(tmp_path)]) == 1
    assert str(model) in capsys.readouterr().err
    # AND writing again repairs it
    assert trim.main(["--out", str(tmp_path)]) == 0
    assert trim.main(["--check", "--out", str(tmp_path)]) == 0


def test_trim_keeps_the_operations_their_shape_closure_and_every_exception():
    # GIVEN the full installed SSM model
    loader = trim._installed_loader()
    full = loader.load_service_model("ssm", "service-2")
    # WHEN it is cut to GetParameter
    cut = trim.trim(full, ("GetParameter",))
    # THEN only GetParameter remains, with everything it refers to and no documentation
    assert set(cut["operations"]) == {"GetParameter"}
    assert cut["metadata"] == full["metadata"]
    assert "documentation" not in json.dumps(cut["operations"]) + json.dumps(cut["shapes"])
    referenced = {ref["shape"] for shape in cut["shapes"].values() for ref in trim._shape_refs(shape)}
    referenced |= {ref["shape"] for op in cut["operations"].values() for ref in trim._operation_refs(op)}
    assert referenced <= set(cut["shapes"])
    exceptions = {name for name, shape in full["shapes"].items() if shape.get("exception")}
    assert exceptions <= set(cut["shapes"])
    assert "ParameterVersionLabelLimitExceeded" in exceptions
    assert "PutParameterRequest" not in cut["shapes"]
    with pytest.raises(ValueError, match="GetParameterz"):
        trim.trim(full, ("GetParameterz",))


def test_the_function_clients_are_built_on_the_trimmed_models(monkeypatch):
    # GIVEN a user's AWS_DATA_PATH (it must not win over the function's models)
    monkeypatch.setenv("AWS_DATA_PATH", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    reset_caches()
    try:
        # WHEN the function makes its clients
        dynamodb, ssm = aws.client("dynamodb"), aws.client("ssm")
        # THEN they know the called operations (and DynamoDB's endpoint discovery), nothing more
        assert set(dynamodb.meta.service_model.operation_names) == CALLED["dynamodb"] | {"DescribeEndpoints"}
        assert set(ssm.meta.service_model.operation_names) == CALLED["ssm"]
        # AND keep every modelled exception class
        assert ssm.exceptions.ParameterNotFound.__name__ == "ParameterNotFound"
        assert dynamodb.exceptions.ConditionalCheckFailedException
        # AND come from the session whose loader searches the trimmed data first
        loader = aws.session()._session.get_component("data_loader")
        assert loader.search_paths[0] == trimmed_data.DATA_DIR
        assert loader.load_data_with_path("endpoints")[1].startswith(trimmed_data.DATA_DIR)
    finally:
        reset_caches()


def test_trimmed_endpoints_resolve_every_region_as_the_full_file():
    # GIVEN botocore's endpoint resolver over the full endpoints.json and over the trimmed one
    from botocore.regions import EndpointResolver

    full_data = trim._installed_loader().load_data("endpoints")
    trimmed = json.loads((Path(trimmed_data.DATA_DIR) / "endpoints.json").read_text(encoding="utf-8"))
    full, cut = EndpointResolver(full_data, uses_builtin_data=True), EndpointResolver(trimmed, uses_builtin_data=True)
    regions = [region for partition in full_data["partitions"] for region in partition["regions"]]
    assert len(regions) > 30
    # WHEN every region of every partition is resolved, in every variant, for the function's services
    # THEN the answers are the same
    assert cut.get_available_partitions() == full.get_available_partitions()
    for prefix in ("dynamodb", "ssm"):
        for region in [*regions, "us-east-1-fips", "local", "eu-future-9"]:
            for dualstack in (False, True):
                for fips in (False, True):
                    variant = {"use_dualstack_endpoint": dualstack, "use_fips_endpoint": fips}
                    try:
                        expected = full.construct_endpoint(prefix, region, **variant)
                    except Exception as exc:  # noqa: BLE001 - whatever it is, the cut must do the same
                        with pytest.raises(type(exc)):
                            cut.construct_endpoint(prefix, region, **variant)
                    else:
                        assert cut.construct_endpoint(prefix, region, **variant) == expected, (prefix, region, variant)


class _Sent(Exception):
    """Stops a request right before it leaves, carrying its URL."""


def _stop(request, **_):
    raise _Sent(request.url)


@pytest.mark.parametrize(
    ("region", "settings"),
    [
        ("us-east-1", {}),
        ("eu-west-1", {"AWS_USE_FIPS_ENDPOINT": "true"}),
        ("us-gov-west-1", {}),
        ("cn-north-1", {"AWS_USE_DUALSTACK_ENDPOINT": "true"}),
        ("ap-southeast-2", {"AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_USE_FIPS_ENDPOINT": "true"}),
    ],
)
def test_requests_go_where_a_full_data_client_sends_them(monkeypatch, region, settings):
    # GIVEN no endpoint override, a region and endpoint variant settings
    import boto3

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    try:
        calls = {
            "dynamodb": lambda c: c.put_item(TableName="t", Item={"k": {"S": "v"}}),
            "ssm": lambda c: c.get_parameter(Name="/p"),
        }
        for service, call in calls.items():
            urls = []
            for client in (aws.client(service), boto3.Session().client(service)):
                client.meta.events.register(f"before-send.{service}", _stop)
                # WHEN the function's client and a full-data client make the same call
                with pytest.raises(_Sent) as sent:
                    call(client)
                urls.append(sent.value.args[0])
            # THEN both go to the same URL
            assert urls[0] == urls[1], (service, urls)
    finally:
        reset_caches()


@pytest.mark.slow
def test_trimmed_clients_work_and_are_traced_in_a_lambda_like_process(moto_endpoint):
    # GIVEN the template's table and parameters on the moto server, and a Lambda-like environment
    # (tracing on) in a fresh interpreter whose X-Ray emitter keeps what it would send
    defs = provision(moto_endpoint)
    env = {
        **os.environ, **defs.function_env, "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": "tracking-processor-test", "LAMBDA_TASK_ROOT": str(FUNCTION_DIR),
        "_X_AMZN_TRACE_ID": "Root=1-6748c7d4-3f1b2c3d4e5f6a7b8c9d0e1f;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    code = f"""
import json, sys, types
sys.path.insert(0, {str(FUNCTION_DIR)!r})
import handler
from aws_xray_sdk.core import xray_recorder
sent = []
xray_recorder.emitter.send_entity = lambda entity: sent.append(json.loads(entity.serialize()))
event = json.load(open({str(EVENTS_DIR / "post_track.json")!r}))
context = types.SimpleNamespace(function_name="f", memory_limit_in_mb=512, aws_request_id="r",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
status = handler.main(event, context)["statusCode"]
get = json.load(open({str(EVENTS_DIR / "get_status.json")!r}))
tracking_id = json.loads(event["body"])["tracking_id"]
get.update(queryStringParameters={{"tracking_id": tracking_id}},
    multiValueQueryStringParameters={{"tracking_id": [tracking_id]}})
page = json.loads(handler.main(get, context)["body"])
from tracking_api import aws, trimmed_data
models = {{s: sorted(aws.client(s).meta.service_model.operation_names) for s in ("dynamodb", "ssm")}}
print("RESULT " + json.dumps({{"status": status, "count": page["count"], "sent": sent, "models": models}}))
"""
    # WHEN it serves a POST /track and a GET /status
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])

    # THEN both answered from the trimmed models (PutItem, GetParameter, Query all worked)
    assert result["status"] == 200 and result["count"] == 1
    assert result["models"] == {"dynamodb": ["DescribeEndpoints", "PutItem", "Query"], "ssm": ["GetParameter"]}
    # AND X-Ray recorded a subsegment per AWS call, with the operation and the table
    calls = [s for s in result["sent"] if s.get("namespace") == "aws"]
    assert [(s["name"], s["aws"]["operation"]) for s in calls] == [
        ("ssm", "GetParameter"), ("dynamodb", "PutItem"), ("dynamodb", "Query"),
    ]
    assert all(s["http"]["response"]["status"] == 200 for s in calls)
    assert {s["aws"].get("table_name") for s in calls if s["name"] == "dynamodb"} == {TABLE_NAME}
