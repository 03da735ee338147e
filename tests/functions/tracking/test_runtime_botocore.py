"""The trimmed botocore models on the runtime's older botocore (1.34.x): the Lambda's own SDK."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from tracking_api import trimmed_data

from tests.functions.runtime_sdk import runtime_sdk_python
from tests.scripts.runtime_python import runtime_python

from .conftest import FUNCTION_DIR
from .stack import TABLE_NAME, provision

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
    assert result["operations"] == {"dynamodb": ["DescribeEndpoints", "PutItem", "Query"], "ssm": ["GetParameter"]}
    assert result["models"] == ["2012-08-10", "2014-11-06"]
    assert result["endpoints"].startswith(trimmed_data.DATA_DIR)
    # AND each call did what it says: stored, refused a duplicate with the modelled error, read
    assert result["items"] == [{"tracking_id": {"S": "PKG-OLD-SDK"}, "timestamp": {"N": "1764547200000"},
                                "status": {"S": "pending"}}]  # fmt: skip
    assert result["refused"] == "ConditionalCheckFailedException"
    assert result["flags"] == defs.parameters[flags]
