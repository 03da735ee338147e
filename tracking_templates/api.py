"""The REST API: /track, /status and /shipments on the API function, its deployment and its stage."""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass

from troposphere import AWSObject, GetAtt, Ref, Sub
from troposphere.apigateway import (
    AccessLogSetting,
    Account,
    Deployment,
    EndpointConfiguration,
    Integration,
    Method,
    MethodSetting,
    Model,
    RequestValidator,
    Resource,
    RestApi,
    Stage,
)
from troposphere.awslambda import Permission
from troposphere.iam import Role
from troposphere.logs import LogGroup

from . import policies, sources
from .compute import Compute
from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .logs import Logs, api_execution_log_group
from .names import REQUEST_MODEL_NAME, REQUEST_VALIDATOR_NAME, REST_API_NAME, Resources
from .routes import routes
from .settings import Settings
from .suppressions import NO_API_CACHE, checkov_metadata

# One JSON line per request; the fields API Gateway documents for $context. The error and
# integration fields say why a request failed (a SigV4 403, a validation 400, an integration 5xx).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "user": "$context.identity.user",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "xrayTraceId": "$context.xrayTraceId",
        "errorMessage": "$context.error.message",
        "errorResponseType": "$context.error.responseType",
        "integrationErrorMessage": "$context.integrationErrorMessage",
        "integrationStatus": "$context.integration.status",
    },
    sort_keys=True,
    separators=(",", ":"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    """Everything API Gateway: the API, its routes, validation, deployment and stage."""

    rest_api: RestApi
    resources: tuple[Resource, ...]
    model: Model
    validator: RequestValidator
    methods: tuple[Method, ...]
    permissions: tuple[Permission, ...]
    deployment: Deployment
    stage: Stage
    # Where the stage's execution logs (errors only) go.
    execution_log: LogGroup
    # The account-level logging role and setting (empty when settings leave them to others).
    account_logging: tuple[AWSObject, ...]


class ObjectSchemaModel(Model):
    """An `AWS::ApiGateway::Model` whose Schema stays a JSON object.

    CloudFormation takes the schema as an object or a string; troposphere's Model.validate()
    turns an object into a string, which CDK's `CfnInclude` (its L1 model types Schema as an
    object) refuses. The schema is an object read from the handler's schema file, so valid JSON.
    """

    def validate(self) -> None:
        """Nothing to check beyond the property types (troposphere's would stringify Schema)."""


def definition_hash(*objects: AWSObject) -> str:
    """A short, stable hash of these resources' definitions (ids, types and properties).

    CRC-32 is enough to tell one API definition from the next (a change goes unnoticed with
    odds of 1 in 4 billion) and, unlike hashlib, costs no OpenSSL load on every synth; binascii's
    CRC-32 (zlib's, same value) is already loaded by troposphere's imports.
    """
    definition = json.dumps([(o.title, o.to_dict()) for o in objects], sort_keys=True, separators=(",", ":"))
    return f"{binascii.crc32(definition.encode('utf-8')):08x}"


def _lambda_proxy(function) -> Integration:
    return Integration(
        Type="AWS_PROXY",
        IntegrationHttpMethod="POST",
        Uri=Sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Arn}/invocations",
            Arn=GetAtt(function, "Arn"),
        ),
    )


def _account_logging(inputs: Inputs) -> tuple[Role, Account]:
    role = Role(
        "ApiGatewayCloudWatchRole",
        AssumeRolePolicyDocument=policies.assumed_by("apigateway.amazonaws.com"),
        # The policy AWS documents for this account-wide role (it logs for every API).
        ManagedPolicyArns=[
            Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        ],
        Tags=stack_tags(inputs),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )
    return role, Account("ApiGatewayAccount", CloudWatchRoleArn=GetAtt(role, "Arn"))


def api(settings: Settings, inputs: Inputs, enc: Encryption, funcs: Compute, log: Logs) -> Api:
    """A regional REST API with AWS_IAM auth, the request model and a hashed deployment."""
    rest_api = RestApi(
        Resources.REST_API,
        Name=Sub(REST_API_NAME),
        Description="Logistics tracking API",
        EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
        Tags=stack_tags(inputs),
    )
    root = GetAtt(rest_api, "RootResourceId")
    model = ObjectSchemaModel(
        Resources.REQUEST_MODEL,
        RestApiId=Ref(rest_api),
        Name=REQUEST_MODEL_NAME,
        ContentType="application/json",
        Description="One tracking update (the schema file the handler validates with)",
        Schema=sources.tracking_update_schema(),
    )
    validator = RequestValidator(
        Resources.REQUEST_VALIDATOR,
        RestApiId=Ref(rest_api),
        Name=REQUEST_VALIDATOR_NAME,
        ValidateRequestBody=True,
        ValidateRequestParameters=True,
    )
    api_routes = routes()
    resources, methods = [], []
    for route in api_routes:
        resource = Resource(route.resource_id, RestApiId=Ref(rest_api), ParentId=root, PathPart=route.path)
        extra = {"RequestParameters": route.request_parameters()} if route.parameters else {}
        if route.body:
            extra["RequestModels"] = {"application/json": Ref(model)}
        methods.append(Method(
            route.method_id,
            RestApiId=Ref(rest_api),
            ResourceId=Ref(resource),
            HttpMethod=route.method,
            AuthorizationType="AWS_IAM",
            RequestValidatorId=Ref(validator),
            Integration=_lambda_proxy(funcs.api_function),
            **extra,
        ))
        resources.append(resource)
    permissions = tuple(
        Permission(
            f"{method.title}Permission",
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(funcs.api_function, "Arn"),
            Principal="apigateway.amazonaws.com",
            # This API, this method and path only (any stage).
            SourceArn=Sub(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/"
                f"{route.method}/{route.path}",
                Api=Ref(rest_api),
            ),
        )
        for method, route in zip(methods, api_routes)
    )
    api_hash = definition_hash(rest_api, *resources, model, validator, *methods)
    deployment = Deployment(
        Resources.DEPLOYMENT_PREFIX + api_hash,
        RestApiId=Ref(rest_api),
        Description=f"API definition {api_hash}",
        DependsOn=[m.title for m in methods],
    )
    account_logging = _account_logging(inputs) if settings.manage_api_gateway_account else ()
    execution_log = api_execution_log_group(settings, inputs, enc, rest_api)
    # The stage comes after its execution log group (or API Gateway creates one of its own on the
    # first error) and after the account's logging role, which access and execution logs both need.
    stage_depends_on = [execution_log.title]
    if account_logging:
        stage_depends_on.append(account_logging[-1].title)
    stage = Stage(
        Resources.STAGE,
        RestApiId=Ref(rest_api),
        DeploymentId=Ref(deployment),
        StageName=Ref(inputs.environment),
        Description=Sub("Logistics tracking API, ${Environment}"),
        TracingEnabled=True,
        MethodSettings=[
            MethodSetting(
                ResourcePath="/*",
                HttpMethod="*",
                MetricsEnabled=True,
                # Why a request failed, for every method; never request or response bodies.
                LoggingLevel="ERROR",
                DataTraceEnabled=False,
                ThrottlingRateLimit=settings.throttle_rate_limit,
                ThrottlingBurstLimit=settings.throttle_burst_limit,
            )
        ],
        AccessLogSetting=AccessLogSetting(DestinationArn=GetAtt(log.api_access, "Arn"), Format=ACCESS_LOG_FORMAT),
        Tags=stack_tags(inputs),
        Metadata=checkov_metadata(NO_API_CACHE),
        DependsOn=stage_depends_on,
    )
    return Api(
        rest_api=rest_api,
        resources=tuple(resources),
        model=model,
        validator=validator,
        methods=tuple(methods),
        permissions=permissions,
        deployment=deployment,
        stage=stage,
        execution_log=execution_log,
        account_logging=account_logging,
    )
