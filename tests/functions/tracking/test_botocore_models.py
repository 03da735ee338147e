"""The trimmed botocore models: cut from the installed botocore, used by every client of ours, traced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tracking_api import aws

from scripts import trim_botocore_models as trim

from .conftest import EVENTS_DIR, FUNCTION_DIR, reset_caches
from .stack import TABLE_NAME, provision

CALLED = {"dynamodb": {"PutItem", "Query"}, "ssm": {"GetParameter"}}


def test_committed_models_are_a_fresh_cut_of_the_installed_botocore():
    # GIVEN the models committed beside the function
    committed = Path(aws.TRIMMED_MODELS_DIR)
    # WHEN they are cut again from the botocore installed now
    fresh = trim.trimmed_models()
    # THEN they are the same files, byte for byte (else: python -m scripts.trim_botocore_models)
    on_disk = {p.relative_to(committed).as_posix(): p.read_text(encoding="utf-8") for p in committed.rglob("*.json")}
    assert sorted(on_disk) == sorted(fresh)
    for relative, text in fresh.items():
        assert on_disk[relative] == text, f"{relative} is stale: run python -m scripts.trim_botocore_models"
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
        # AND come from one session, which loads each shared file once (one endpoint resolver)
        assert aws.session()._session.get_component("data_loader").search_paths[0] == aws.TRIMMED_MODELS_DIR
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
from tracking_api import aws
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
