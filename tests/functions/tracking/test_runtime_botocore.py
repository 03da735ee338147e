"""The trimmed botocore models on the runtime's older botocore (1.34.x): the Lambda's own SDK."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

import pytest
from tracking_api import trimmed_data

from tests.functions.runtime_sdk import runtime_sdk_python
from tests.scripts.runtime_python import runtime_python

from .conftest import FUNCTION_DIR
from .stack import IDEMPOTENCY_TABLE_NAME, TABLE_NAME, provision

# Runs in CPython 3.13 with only the runtime's SDK installed (no dev packages on the path).
CALLS = f"""
import json, sys
sys.path.insert(0, {str(FUNCTION_DIR)!r})
import botocore
from tracking_api import aws
dynamodb, ssm = aws.client("dynamodb"), aws.client("ssm")
item = {{"tracking_id": {{"S": "PKG-OLD-SDK"}}, "timestamp": {{"N": "1764547200000"}}, "status": {{"S": "pending"}}}}
dynamodb.put_item(TableName={TABLE_NAME!r}, Item=item, ConditionExpression="attribute_not_exists(tracking_id)")
try:
    dynamodb.put_item(TableName={TABLE_NAME!r}, Item=item, ConditionExpression="attribute_not_exists(tracking_id)")
    refused = None
except dynamodb.exceptions.ConditionalCheckFailedException as error:
    refused = type(error).__name__
page = dynamodb.query(TableName={TABLE_NAME!r}, KeyConditionExpression="tracking_id = :t",
                      ExpressionAttributeValues={{":t": {{"S": "PKG-OLD-SDK"}}}})
loader = aws.session()._session.get_component("data_loader")
print(json.dumps({{
    "botocore": botocore.__version__, "botocore_file": botocore.__file__,
    "operations": {{s: sorted(c.meta.service_model.operation_names) for s, c in (("dynamodb", dynamodb), ("ssm", ssm))}},
    "models": [loader.load_service_model(s, "service-2")["metadata"]["apiVersion"] for s in ("dynamodb", "ssm")],
    "endpoints": loader.load_data_with_path("endpoints")[1],
    "items": page["Items"], "refused": refused,
    "flags": ssm.get_parameter(Name=sys.argv[1])["Parameter"]["Value"],
}}))
"""


@pytest.mark.slow
def test_the_function_clients_work_on_the_runtime_botocore_from_the_trimmed_models(moto_endpoint: str) -> None:
    # GIVEN the template's table and parameters on the moto server, and CPython 3.13 with the
    # runtime's boto3/botocore 1.34.x and nothing else
    python = runtime_sdk_python(runtime_python())
    defs = provision(moto_endpoint)
    flags = defs.function_env["FEATURE_FLAGS_PARAM"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["AWS_ENDPOINT_URL"] = moto_endpoint
    # WHEN the function's clients make its PutItem, Query and GetParameter calls
    done = subprocess.run([str(python), "-c", CALLS, flags], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # THEN they ran on botocore 1.34.145 (the venv's), built from the trimmed models only
    assert result["botocore"] == "1.34.145" and str(python.parent.parent) in result["botocore_file"]
    assert result["operations"] == {
        "dynamodb": ["DeleteItem", "DescribeEndpoints", "GetItem", "PutItem", "Query", "UpdateItem"],
        "ssm": ["GetParameter"],
    }
    assert result["models"] == ["2012-08-10", "2014-11-06"]
    assert result["endpoints"].startswith(trimmed_data.DATA_DIR)
    # AND each call did what it says: stored, refused a duplicate with the modelled error, read
    assert result["items"] == [{"tracking_id": {"S": "PKG-OLD-SDK"}, "timestamp": {"N": "1764547200000"},
                                "status": {"S": "pending"}}]  # fmt: skip
    assert result["refused"] == "ConditionalCheckFailedException"
    assert result["flags"] == defs.parameters[flags]


# The keyed POST's path (tracking_api.idempotency over powertools' store) on the runtime's botocore.
IDEMPOTENT_CALLS = f"""
import json, sys, types
sys.path[:0] = [{str(FUNCTION_DIR)!r}, sys.argv[1]]
import botocore
from tracking_api import aws, idempotency
from tracking_api.errors import Refused
from tracking_api.storage import TrackingStore
from tracking_api.validation import parse_tracking_update

sent = []
dynamodb = aws.client("dynamodb")
dynamodb.meta.events.register("before-parameter-build.dynamodb", lambda model, params, **_: sent.append(
    (model.name, params["TableName"])))
store = TrackingStore(dynamodb, table_name={TABLE_NAME!r}, environment="test")
body = {{"tracking_id": "PKG-OLD-SDK-KEYED", "status": "pending", "location": {{"lat": 1, "lng": 2}}}}
update = parse_tracking_update(json.dumps(body))
other = parse_tracking_update(json.dumps({{**body, "status": "failed"}}))
context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: 30_000)
layer = aws.persistence_layer(sys.argv[2])
answers = [idempotency.once("key-1", u, lambda: {{"timestamp": store.put_update(update)}},
                            persistence_store=layer, context=context) for u in (update, update)]
try:
    idempotency.once("key-1", other, lambda: {{}}, persistence_store=layer, context=context)
    refused = None
except Refused as error:
    refused = [error.status_code, error.message]
print(json.dumps({{
    "botocore": botocore.__version__, "same_client": layer.client is dynamodb,
    "operations": sorted(layer.client.meta.service_model.operation_names),
    "answers": answers, "refused": refused, "sent": sent,
    "items": dynamodb.query(TableName={TABLE_NAME!r}, KeyConditionExpression="tracking_id = :t",
        ExpressionAttributeValues={{":t": {{"S": "PKG-OLD-SDK-KEYED"}}}})["Count"],
}}))
"""
# What the function bundles beside its code for this path (pure Python, the versions the function's
# lock pins); everything else comes from the runtime's SDK.
BUNDLED_FOR_IDEMPOTENCY = ("aws_lambda_powertools", "fastjsonschema", "typing_extensions")


def _bundled(target: Path) -> Path:
    """target holding the dev install's copies of BUNDLED_FOR_IDEMPOTENCY, checked against the function's lock."""
    lock = (FUNCTION_DIR / "requirements.txt").read_text(encoding="utf-8")
    for name in BUNDLED_FOR_IDEMPOTENCY:
        module = importlib.import_module(name)
        distribution = name.replace("_", "-")
        assert f"{distribution}=={importlib.metadata.version(distribution)} " in lock, distribution
        source = Path(module.__file__)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


@pytest.mark.slow
def test_the_idempotent_path_works_on_the_runtime_botocore_from_the_trimmed_model(
    moto_endpoint: str, tmp_path: Path
) -> None:
    # GIVEN the template's tables on the moto server, CPython 3.13 with the runtime's SDK, and the
    # pure-Python packages the function bundles for this path
    python = runtime_sdk_python(runtime_python())
    provision(moto_endpoint)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["AWS_ENDPOINT_URL"] = moto_endpoint
    # WHEN a keyed update is stored, repeated, then its key reused with another body
    done = subprocess.run([str(python), "-c", IDEMPOTENT_CALLS, str(_bundled(tmp_path)), IDEMPOTENCY_TABLE_NAME],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # THEN powertools' store ran on botocore 1.34.145 through the function's trimmed client
    assert result["botocore"] == "1.34.145" and result["same_client"] is True
    assert result["operations"] == ["DeleteItem", "DescribeEndpoints", "GetItem", "PutItem", "Query", "UpdateItem"]
    # AND claimed, stored once, completed; the repeat got the first answer, the other body 422
    first, again = result["answers"]
    assert first == again and isinstance(first["timestamp"], int) and result["items"] == 1
    assert result["refused"] == [422, "Idempotency-Key was already used with another request body"]
    assert result["sent"] == [
        ["PutItem", IDEMPOTENCY_TABLE_NAME], ["PutItem", TABLE_NAME], ["UpdateItem", IDEMPOTENCY_TABLE_NAME],
        ["PutItem", IDEMPOTENCY_TABLE_NAME], ["PutItem", IDEMPOTENCY_TABLE_NAME],
        ["Query", TABLE_NAME],  # the check above
    ]
