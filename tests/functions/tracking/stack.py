"""The tracking table, SSM parameters and function environment, read from the generated template.

Tests build their moto resources from these, so the template and the handler cannot drift
apart: a key, index or parameter renamed in the template changes what the tests create.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tracking_templates import build_template
from tracking_templates.names import FUNCTION_CODE_KEY_PARAMS, Resources
from tracking_templates.settings import settings_for

ENV = "test"
TABLE_NAME = f"tracking-table-{ENV}"
STATE_TABLE_NAME = f"tracking-state-{ENV}"
IDEMPOTENCY_TABLE_NAME = f"tracking-idempotency-{ENV}"
_SUB_RE = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


@dataclass(frozen=True)
class StackDefinitions:
    """What the template says the API function runs against."""

    table: dict[str, Any]  # the tracking table's properties
    state_table: dict[str, Any]  # the state table's properties (GET /shipments)
    idempotency_table: dict[str, Any]  # the Idempotency-Key records' table's properties
    parameters: dict[str, str]  # SSM parameter name -> value
    function_env: dict[str, str]  # the API function's environment variables


def _resolve(value: Any, names: dict[str, str]) -> Any:
    """Resolve the Ref and Fn::Sub forms the template uses, given physical names by logical id."""
    if isinstance(value, dict) and len(value) == 1:
        ((kind, arg),) = value.items()
        if kind == "Ref":
            return names[arg]
        if kind == "Fn::Sub" and isinstance(arg, str):
            return _SUB_RE.sub(lambda m: names[m.group(1)], arg)
    if isinstance(value, dict):
        return {k: _resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, names) for v in value]
    return value


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in resources.items() if res["Type"] == kind}


@lru_cache(maxsize=None)
def definitions(env: str = ENV) -> StackDefinitions:
    """The template's table, parameters and API function environment for env."""
    template = build_template(settings_for(env)).to_dict()
    resources = template["Resources"]
    tables = {Resources.TABLE, Resources.STATE_TABLE, Resources.IDEMPOTENCY_TABLE}
    assert set(_of_type(resources, "AWS::DynamoDB::Table")) == tables
    names: dict[str, str] = {
        "Environment": env,
        "AWS::Region": "us-east-1",
        Resources.TABLE: TABLE_NAME,
        Resources.STATE_TABLE: STATE_TABLE_NAME,
        Resources.IDEMPOTENCY_TABLE: IDEMPOTENCY_TABLE_NAME,
    }
    ssm = _of_type(resources, "AWS::SSM::Parameter")
    for lid, res in ssm.items():
        names[lid] = _resolve(res["Properties"]["Name"], names)
    parameters = {names[lid]: _resolve(res["Properties"]["Value"], names) for lid, res in ssm.items()}
    (function,) = [
        res
        for res in _of_type(resources, "AWS::Lambda::Function").values()
        if res["Properties"]["Code"]["S3Key"] == {"Ref": FUNCTION_CODE_KEY_PARAMS["tracking"]}
    ]
    variables = function["Properties"]["Environment"]["Variables"]
    return StackDefinitions(
        table=resources[Resources.TABLE]["Properties"],
        state_table=resources[Resources.STATE_TABLE]["Properties"],
        idempotency_table=resources[Resources.IDEMPOTENCY_TABLE]["Properties"],
        parameters=parameters,
        function_env={k: _resolve(v, names) for k, v in variables.items()},
    )


def create_table_args(table: dict[str, Any], name: str = TABLE_NAME) -> dict[str, Any]:
    """CreateTable arguments for one of the template's tables (keys, indexes, billing, stream)."""
    args = {k: table[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode") if k in table}
    if "GlobalSecondaryIndexes" in table:
        args["GlobalSecondaryIndexes"] = table["GlobalSecondaryIndexes"]
    if "StreamSpecification" in table:
        args["StreamSpecification"] = {"StreamEnabled": True, **table["StreamSpecification"]}
    return {"TableName": name, **args}


def create_tables(dynamodb: Any, defs: StackDefinitions) -> None:
    """Create the template's three tables (the idempotency table with its time-to-live)."""
    dynamodb.create_table(**create_table_args(defs.table))
    dynamodb.create_table(**create_table_args(defs.state_table, STATE_TABLE_NAME))
    dynamodb.create_table(**create_table_args(defs.idempotency_table, IDEMPOTENCY_TABLE_NAME))
    dynamodb.update_time_to_live(
        TableName=IDEMPOTENCY_TABLE_NAME, TimeToLiveSpecification=defs.idempotency_table["TimeToLiveSpecification"]
    )


def provision(endpoint_url: str | None = None) -> StackDefinitions:
    """Create the template's tables and parameters (moto server at endpoint_url, or in-process moto)."""
    import boto3

    defs = definitions()
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
    create_tables(dynamodb, defs)
    ssm = boto3.client("ssm", endpoint_url=endpoint_url)
    for name, value in defs.parameters.items():
        ssm.put_parameter(Name=name, Value=value, Type="String")
    return defs
