"""The generated template really creates in the emulator, by create_stack and by change set."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tracking_templates.names import LIVE_ALIAS, STATE_INDEX, MoreOutputs, Outputs, Params, Resources
from tracking_templates.settings import settings_for

from . import moto_releases

pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse:UserWarning", "ignore:No Moto CloudFormation support:UserWarning"
)

BUCKET = "code-artifacts"
KEYS = {Params.CODE_KEY: "tracking/abc.zip", Params.NOTIFIER_CODE_KEY: "notifier/def.zip"}


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def main(event, context):\n    return {}\n")
    return buffer.getvalue()


@pytest.fixture
def aws() -> Iterator[None]:
    moto_releases.register()
    with mock_aws(config={"lambda": {"use_docker": False}}):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key in KEYS.values():
            s3.put_object(Bucket=BUCKET, Key=key, Body=_dummy_zip())
        yield


def _parameters(env: str) -> list[dict]:
    # The digest Lambda reports for the uploaded zip; the bucket keeps no versions: "" (none pinned).
    sha256 = base64.b64encode(hashlib.sha256(_dummy_zip()).digest()).decode()
    code = {Params.CODE_SHA256: sha256, Params.NOTIFIER_CODE_SHA256: sha256,
            Params.CODE_OBJECT_VERSION: "", Params.NOTIFIER_CODE_OBJECT_VERSION: ""}
    values = {Params.ENVIRONMENT: env, Params.CODE_BUCKET: BUCKET, **KEYS, **code,
              Params.NOTIFICATION_EMAIL: "ops@example.com"}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _physical_ids(cfn, stack: str) -> dict[str, str]:
    rows = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in rows if r.get("LogicalResourceId")}


def _check_stack(ids: dict[str, str], env: str) -> None:
    region = "us-east-1"
    # The table: keys, index, stream
    table = boto3.client("dynamodb", region_name=region).describe_table(TableName=ids[Resources.TABLE])["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"tracking_id": "HASH", "timestamp": "RANGE"}
    assert table.get("GlobalSecondaryIndexes", []) == []  # StatusIndex is retired
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # The state table: one item per shipment, listed through the write-sharded index
    state = boto3.client("dynamodb", region_name=region).describe_table(TableName=ids[Resources.STATE_TABLE])["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in state["KeySchema"]} == {"tracking_id": "HASH"}
    (index,) = state["GlobalSecondaryIndexes"]
    assert index["IndexName"] == STATE_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["listing_shard", "listing_rank"]
    # Both functions, and the stream mapping into the notifier
    lam = boto3.client("lambda", region_name=region)
    api_fn = lam.get_function(FunctionName=f"tracking-processor-{env}")["Configuration"]
    assert api_fn["Handler"] == "handler.main"
    assert api_fn["Environment"]["Variables"]["TABLE_NAME"] == ids[Resources.TABLE]
    notifier = lam.get_function(FunctionName=f"tracking-notifier-{env}")["Configuration"]
    # Each function published version 1, and its `live` alias points at it
    for function in (api_fn, notifier):
        alias = lam.get_alias(FunctionName=function["FunctionName"], Name=LIVE_ALIAS)
        assert (alias["AliasArn"], alias["FunctionVersion"]) == (f"{function['FunctionArn']}:{LIVE_ALIAS}", "1")
    # The stream mapping invokes the notifier's alias
    notifier_alias = f"{notifier['FunctionArn']}:{LIVE_ALIAS}"
    (mapping,) = lam.list_event_source_mappings(FunctionName=notifier_alias)["EventSourceMappings"]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    # (AWS records the alias ARN; moto the ARN of the version the alias points at)
    assert mapping["FunctionArn"] in (notifier_alias, f"{notifier['FunctionArn']}:1")
    # API Gateway may invoke the API function's alias, route by route (moto's Resource leaves out the qualifier)
    policy = json.loads(lam.get_policy(FunctionName=api_fn["FunctionName"], Qualifier=LIVE_ALIAS)["Policy"])
    assert sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"].rsplit("/", 2)[-2] for s in policy["Statement"]) == [
        "GET", "GET", "POST"
    ]
    # The REST API's routes
    apigw = boto3.client("apigateway", region_name=region)
    routes = {
        (method, r["path"])
        for r in apigw.get_resources(restApiId=ids[Resources.REST_API])["items"]
        for method in r.get("resourceMethods", {})
    }
    assert routes == {("POST", "/track"), ("GET", "/status"), ("GET", "/shipments")}
    # The stage's execution log group, under the name API Gateway writes to, with the env's retention
    logs = boto3.client("logs", region_name=region)
    execution_log = f"API-Gateway-Execution-Logs_{ids[Resources.REST_API]}/{env}"
    (group,) = logs.describe_log_groups(logGroupNamePrefix=execution_log)["logGroups"]
    assert (group["logGroupName"], group["retentionInDays"]) == (execution_log, settings_for(env).log_retention_days)
    # Parameters, queue and topic
    ssm = boto3.client("ssm", region_name=region)
    assert ssm.get_parameter(Name=f"/logistics/db/{env}/endpoint")["Parameter"]["Value"] == ids[Resources.TABLE]
    flags = json.loads(ssm.get_parameter(Name=f"/logistics/features/{env}/flags")["Parameter"]["Value"])
    assert flags["real_time_notifications"] is True
    assert ssm.get_parameter(Name=f"/logistics/api/{env}/config")["Parameter"]["Type"] == "String"
    attributes = boto3.client("sqs", region_name=region).get_queue_attributes(
        QueueUrl=ids[Resources.DLQ], AttributeNames=["MessageRetentionPeriod"]
    )["Attributes"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    topics = boto3.client("sns", region_name=region).list_topics()["Topics"]
    assert ids[Resources.TOPIC] in [t["TopicArn"] for t in topics]


def test_create_stack_creates_everything_and_computes_outputs(aws, rendered: dict[str, str]) -> None:
    # GIVEN the dev template  WHEN it is created as a stack
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="tracking-dev", TemplateBody=rendered["dev"], Parameters=_parameters("dev"),
                     Capabilities=["CAPABILITY_IAM"])
    stack = cfn.describe_stacks(StackName="tracking-dev")["Stacks"][0]
    # THEN it is complete, every resource is there, and the outputs resolve
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    ids = _physical_ids(cfn, "tracking-dev")
    _check_stack(ids, "dev")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs[Outputs.TABLE_NAME] == ids[Resources.TABLE]
    assert outputs[Outputs.LAMBDA_FUNCTION_NAME] == "tracking-processor-dev"
    assert outputs[Outputs.API_ENDPOINT] == f"https://{ids[Resources.REST_API]}.execute-api.us-east-1.amazonaws.com/dev"
    assert outputs[Outputs.DLQ_URL] == ids[Resources.DLQ]
    assert outputs[Outputs.DASHBOARD_URL].startswith("https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#")
    assert outputs[MoreOutputs.NOTIFIER_FUNCTION_NAME] == "tracking-notifier-dev"


def test_change_set_creates_everything_in_template_order(aws, rendered: dict[str, str]) -> None:
    # GIVEN the prod template  WHEN it is created through a CREATE change set (applied in key order)
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    change_set = cfn.create_change_set(
        StackName="tracking-prod", TemplateBody=rendered["prod"], Parameters=_parameters("prod"),
        Capabilities=["CAPABILITY_IAM"], ChangeSetName="first", ChangeSetType="CREATE",
    )
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    # THEN the stack completes with the same resources
    stack = cfn.describe_stacks(StackName=change_set["StackId"])["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    _check_stack(_physical_ids(cfn, change_set["StackId"]), "prod")
