"""The notifier's trimmed botocore models on the runtime's older botocore (1.34.x): the Lambda's own SDK."""

from __future__ import annotations

import json
import os
import subprocess

import boto3
import pytest
from status_notifier import trimmed_data

from tests.functions.runtime_sdk import runtime_sdk_python
from tests.scripts.runtime_python import runtime_python

from ..tracking.stack import STATE_TABLE_NAME, provision
from .conftest import NOTIFIER_DIR

# Runs in CPython 3.13 with only the runtime's SDK installed (no dev packages on the path).
CALLS = f"""
import json, sys
sys.path.insert(0, {str(NOTIFIER_DIR)!r})
import botocore
from status_notifier import clients
topic, flags_param = sys.argv[1:3]
dynamodb, sns, ssm = clients.client("dynamodb"), clients.client("sns"), clients.client("ssm")
item = {{"tracking_id": {{"S": "PKG-OLD-SDK"}}, "timestamp": {{"N": "1764547200000"}}, "status": {{"S": "delivered"}}}}
dynamodb.put_item(TableName={STATE_TABLE_NAME!r}, Item=item, ConditionExpression="attribute_not_exists(tracking_id)")
try:
    dynamodb.put_item(TableName={STATE_TABLE_NAME!r}, Item=item, ConditionExpression="attribute_not_exists(tracking_id)")
    refused = None
except dynamodb.exceptions.ConditionalCheckFailedException as error:
    refused = type(error).__name__
message_id = sns.publish(TopicArn=topic, Message="{{}}", Subject="s",
                         MessageAttributes={{"status": {{"DataType": "String", "StringValue": "delivered"}}}})["MessageId"]
loader = clients.session()._session.get_component("data_loader")
print(json.dumps({{
    "botocore": botocore.__version__,
    "operations": {{s: sorted(c.meta.service_model.operation_names) for s, c in (("dynamodb", dynamodb), ("sns", sns), ("ssm", ssm))}},
    "endpoints": loader.load_data_with_path("endpoints")[1],
    "refused": refused, "published": bool(message_id),
    "flags": json.loads(ssm.get_parameter(Name=flags_param)["Parameter"]["Value"]),
}}))
"""


@pytest.mark.slow
def test_the_notifier_clients_work_on_the_runtime_botocore_from_the_trimmed_models(moto_endpoint: str) -> None:
    # GIVEN the state table, the flags parameter and a topic on the moto server, and CPython 3.13
    # with the runtime's boto3/botocore 1.34.x and nothing else
    python = runtime_sdk_python(runtime_python())
    defs = provision(moto_endpoint)
    flags_param = next(name for name in defs.parameters if "/features/" in name)
    topic = boto3.client("sns", endpoint_url=moto_endpoint).create_topic(Name="notifications")["TopicArn"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["AWS_ENDPOINT_URL"] = moto_endpoint
    # WHEN the function's clients make its PutItem, Publish and GetParameter calls
    done = subprocess.run([str(python), "-c", CALLS, topic, flags_param], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # THEN they ran on botocore 1.34.145, built from the trimmed models only
    assert result["botocore"] == "1.34.145"
    assert result["operations"] == {
        "dynamodb": ["DescribeEndpoints", "PutItem"], "sns": ["Publish"], "ssm": ["GetParameter"]
    }
    assert result["endpoints"].startswith(trimmed_data.DATA_DIR)
    # AND each call did what it says: stored and refused a duplicate with the modelled error, published, read
    assert result["refused"] == "ConditionalCheckFailedException"
    assert result["published"] is True
    assert result["flags"] == json.loads(defs.parameters[flags_param])
