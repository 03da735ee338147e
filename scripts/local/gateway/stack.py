"""What was deployed: the stack's parameters and physical ids, read back from the emulator.

Values the emulator does not compute (Outputs after a change set, the skipped Stage and Model)
come from the template through `intrinsics.Resolver`; this module supplies the stack's side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tracking_templates.names import FUNCTION_CODE_KEY_PARAMS
from tracking_templates.sources import FUNCTIONS_DIR

from .functions import FunctionConfig
from .intrinsics import Resolver, UnresolvableError, ref_target
from .routes import FUNCTION


class Clients:
    """One boto3 client per service from one session (a new client costs tens of milliseconds)."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        """The session's region."""
        return self.session.region_name

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]


@dataclass(frozen=True)
class Identity:
    """The account and principal the configured credentials belong to (per the emulator's STS)."""

    account_id: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class DeployedStack:
    """A stack as the emulator holds it, and a resolver for its template's expressions."""

    name: str
    region: str
    clients: Clients
    identity: Identity
    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]
    resolver: Resolver


class _Attributes:
    """`Fn::GetAtt` values read from the deployed resources through their service APIs."""

    def __init__(self, clients: Clients, physical_ids: Mapping[str, str], identity: Identity, region: str):
        self._clients = clients
        self._ids = physical_ids
        self._identity = identity
        self._region = region
        self._cache: dict[tuple[str, str], Any] = {}

    def _arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self._region if regional else ""
        return f"arn:aws:{service}:{region}:{self._identity.account_id}:{resource}"

    def __call__(self, logical_id: str, type_name: str, attribute: str) -> Any:
        key = (logical_id, attribute)
        if key not in self._cache:
            self._cache[key] = self._read(self._ids[logical_id], type_name, attribute)
        return self._cache[key]

    def _read(self, physical: str, type_name: str, attribute: str) -> Any:
        client = self._clients
        if (type_name, attribute) == ("AWS::Lambda::Function", "Arn"):
            return self._arn("lambda", f"function:{physical}")
        if type_name == "AWS::DynamoDB::Table" and attribute in ("Arn", "StreamArn"):
            table = client("dynamodb").describe_table(TableName=physical)["Table"]
            return table["TableArn" if attribute == "Arn" else "LatestStreamArn"]
        if (type_name, attribute) == ("AWS::SQS::Queue", "Arn"):
            attrs = client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
            return attrs["Attributes"]["QueueArn"]
        if type_name == "AWS::SQS::Queue" and attribute in ("QueueName", "QueueUrl"):
            return physical.rsplit("/", 1)[-1] if attribute == "QueueName" else physical
        if type_name == "AWS::SNS::Topic" and attribute in ("TopicArn", "TopicName"):
            return physical if attribute == "TopicArn" else physical.rsplit(":", 1)[-1]
        if (type_name, attribute) == ("AWS::IAM::Role", "Arn"):
            return client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        if (type_name, attribute) == ("AWS::Logs::LogGroup", "Arn"):
            return self._arn("logs", f"log-group:{physical}:*")
        if (type_name, attribute) == ("AWS::KMS::Key", "Arn"):
            return client("kms").describe_key(KeyId=physical)["KeyMetadata"]["Arn"]
        if (type_name, attribute) == ("AWS::ApiGateway::RestApi", "RootResourceId"):
            items = client("apigateway").get_resources(restApiId=physical)["items"]
            return next(i["id"] for i in items if i["path"] == "/")
        raise UnresolvableError(f"Fn::GetAtt {type_name}.{attribute} is not supported locally")


def read_stack(clients: Clients, stack_name: str) -> tuple[Identity, dict[str, str], dict[str, str]]:
    """The caller identity, the stack's parameter values and its logical -> physical ids."""
    who = clients("sts").get_caller_identity()
    identity = Identity(account_id=who["Account"], arn=who["Arn"], user_id=who["UserId"])
    cfn = clients("cloudformation")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    # Rows of types the emulator skips come back without ids; they are not deployed.
    physical_ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    return identity, parameters, physical_ids


def deployed_stack(clients: Clients, stack_name: str, template: Mapping[str, Any]) -> DeployedStack:
    """Read the deployed stack and bind the template's expressions to it."""
    region = clients.region
    identity, parameters, physical_ids = read_stack(clients, stack_name)
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": identity.account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
    }
    resolver = Resolver(
        template=template,
        parameters=parameters,
        physical_ids=physical_ids,
        pseudo=pseudo,
        get_attribute=_Attributes(clients, physical_ids, identity, region),
    )
    return DeployedStack(stack_name, region, clients, identity, parameters, physical_ids, resolver)


def function_source_dir(function_props: Mapping[str, Any]) -> Path:
    """The functions/ folder whose zip the template's function runs (found by its code-key parameter)."""
    key_param = ref_target(function_props.get("Code", {}).get("S3Key"))
    by_param = {param: folder for folder, param in FUNCTION_CODE_KEY_PARAMS.items()}
    if key_param not in by_param:
        raise UnresolvableError(f"the function's S3Key {key_param!r} is not a known code-key parameter")
    return FUNCTIONS_DIR / by_param[key_param]


def function_config(stack: DeployedStack, logical_id: str) -> FunctionConfig:
    """The deployed function's name, ARN, handler, code folder, environment and limits."""
    resource = stack.resolver.resources[logical_id]
    if resource.get("Type") != FUNCTION:
        raise UnresolvableError(f"{logical_id} is not a Lambda function")
    props = resource["Properties"]
    resolve = stack.resolver.resolve
    variables = resolve(props.get("Environment", {}).get("Variables", {}))
    return FunctionConfig(
        logical_id=logical_id,
        name=stack.physical_ids[logical_id],
        arn=str(stack.resolver.getatt(logical_id, "Arn")),
        handler=str(resolve(props["Handler"])),
        source_dir=function_source_dir(props),
        environment={str(k): str(v) for k, v in variables.items()},
        memory_mb=int(resolve(props.get("MemorySize", 128))),
        timeout_s=int(resolve(props.get("Timeout", 3))),
    )
