"""API Gateway: routes, auth, validation, the hashed deployment and the stage."""

from __future__ import annotations

import json
from dataclasses import replace

from tracking_templates import sources
from tracking_templates.api import definition_hash
from tracking_templates.names import REQUEST_MODEL_NAME, Resources
from tracking_templates.settings import settings_for
from tracking_templates.template import build_template

from .conftest import resources_of_type


def _methods(template: dict) -> dict[str, dict]:
    return resources_of_type(template, "AWS::ApiGateway::Method")


def _path_of(template: dict, method: dict) -> str:
    return template["Resources"][method["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"]


def test_routes_are_iam_authorised_lambda_proxies(dev: dict) -> None:
    # GIVEN the methods
    routes = {(m["Properties"]["HttpMethod"], _path_of(dev, m)): m["Properties"] for m in _methods(dev).values()}
    # THEN exactly POST /track, GET /status and GET /shipments, AWS_IAM, proxied to the API function's alias
    assert set(routes) == {("POST", "track"), ("GET", "status"), ("GET", "shipments")}
    for props in routes.values():
        assert props["AuthorizationType"] == "AWS_IAM"
        assert props["RequestValidatorId"] == {"Ref": Resources.REQUEST_VALIDATOR}
        integration = props["Integration"]
        assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
        assert integration["Uri"]["Fn::Sub"][1] == {"Arn": {"Ref": Resources.API_ALIAS}}
        assert integration["Uri"]["Fn::Sub"][0].startswith("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:")
    assert routes[("POST", "track")]["RequestModels"] == {"application/json": {"Ref": Resources.REQUEST_MODEL}}
    assert routes[("GET", "status")]["RequestParameters"]["method.request.querystring.tracking_id"] is True
    # API Gateway refuses a listing without a status before the function runs; limit and last_key are optional
    assert routes[("GET", "shipments")]["RequestParameters"] == {
        "method.request.querystring.status": True,
        "method.request.querystring.limit": False,
        "method.request.querystring.last_key": False,
    }
    # POST /track declares the optional Idempotency-Key header (API Gateway passes it on either way)
    assert routes[("POST", "track")]["RequestParameters"] == {"method.request.header.Idempotency-Key": False}


def test_model_is_the_handlers_schema_and_validation_is_on(dev: dict) -> None:
    model = dev["Resources"][Resources.REQUEST_MODEL]["Properties"]
    # (an object, not the JSON string troposphere makes of it: CDK's CfnInclude accepts only an object)
    assert model["Schema"] == sources.tracking_update_schema()
    assert model["Name"] == REQUEST_MODEL_NAME and model["ContentType"] == "application/json"
    validator = dev["Resources"][Resources.REQUEST_VALIDATOR]["Properties"]
    assert validator["ValidateRequestBody"] is True and validator["ValidateRequestParameters"] is True
    assert dev["Resources"][Resources.REST_API]["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_invoke_permissions_are_scoped_to_this_api(dev: dict) -> None:
    permissions = resources_of_type(dev, "AWS::Lambda::Permission")
    arns = sorted(p["Properties"]["SourceArn"]["Fn::Sub"][0] for p in permissions.values())
    assert arns == [
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/shipments",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/status",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/track",
    ]
    for p in permissions.values():
        assert p["Properties"]["SourceArn"]["Fn::Sub"][1] == {"Api": {"Ref": Resources.REST_API}}
        assert p["Properties"]["Principal"] == "apigateway.amazonaws.com"


def test_deployment_depends_on_every_method(dev: dict) -> None:
    (deployment_id,) = resources_of_type(dev, "AWS::ApiGateway::Deployment")
    deployment = dev["Resources"][deployment_id]
    assert deployment_id.startswith(Resources.DEPLOYMENT_PREFIX)
    assert sorted(deployment["DependsOn"]) == sorted(_methods(dev))


def test_deployment_id_changes_when_the_api_changes(monkeypatch) -> None:
    # GIVEN the deployment's id as generated now
    def deployment_id() -> str:
        t = build_template(settings_for("dev"))
        return next(name for name in t.resources if name.startswith(Resources.DEPLOYMENT_PREFIX))

    before = deployment_id()
    assert deployment_id() == before, "the id must be stable for an unchanged API"
    # WHEN the request schema (the model) changes
    schema = sources.tracking_update_schema()
    schema["properties"]["tracking_id"]["maxLength"] = 50
    monkeypatch.setattr(sources, "tracking_update_schema", lambda: json.loads(json.dumps(schema)))
    # THEN the deployment gets a new logical id, so CloudFormation deploys the new API
    assert deployment_id() != before


def test_definition_hash_sees_methods_and_is_order_sensitive_only_to_content() -> None:
    from troposphere.apigateway import Method

    a = Method("M", HttpMethod="GET", AuthorizationType="AWS_IAM", ResourceId="r", RestApiId="a")
    b = Method("M", HttpMethod="GET", AuthorizationType="NONE", ResourceId="r", RestApiId="a")
    assert definition_hash(a) != definition_hash(b)
    assert definition_hash(a) == definition_hash(Method("M", RestApiId="a", ResourceId="r", AuthorizationType="AWS_IAM", HttpMethod="GET"))


def test_stage_has_tracing_throttling_and_json_access_logs(templates: dict) -> None:
    for env in templates:
        stage = templates[env]["Resources"][Resources.STAGE]["Properties"]
        settings = settings_for(env)
        assert stage["StageName"] == {"Ref": "Environment"}
        assert stage["TracingEnabled"] is True
        (method_setting,) = stage["MethodSettings"]
        assert method_setting["ThrottlingRateLimit"] == settings.throttle_rate_limit
        assert method_setting["ThrottlingBurstLimit"] == settings.throttle_burst_limit
        assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
        fields = json.loads(stage["AccessLogSetting"]["Format"])
        assert fields["requestId"] == "$context.requestId" and "status" in fields
        assert stage["DeploymentId"]["Ref"].startswith(Resources.DEPLOYMENT_PREFIX)


def test_access_log_says_why_a_request_failed(dev: dict) -> None:
    # GIVEN the access log's JSON line format
    fields = json.loads(dev["Resources"][Resources.STAGE]["Properties"]["AccessLogSetting"]["Format"])
    # THEN it carries API Gateway's error (a SigV4 403, a validation 400) and the integration's
    assert {key: fields[key] for key in ("errorMessage", "errorResponseType", "integrationErrorMessage",
                                         "integrationStatus")} == {
        "errorMessage": "$context.error.message",
        "errorResponseType": "$context.error.responseType",
        "integrationErrorMessage": "$context.integrationErrorMessage",
        "integrationStatus": "$context.integration.status",
    }


def test_every_method_logs_errors_but_no_bodies(templates: dict) -> None:
    for env in templates:
        (method_setting,) = templates[env]["Resources"][Resources.STAGE]["Properties"]["MethodSettings"]
        assert (method_setting["ResourcePath"], method_setting["HttpMethod"]) == ("/*", "*")
        assert method_setting["LoggingLevel"] == "ERROR"
        assert method_setting["DataTraceEnabled"] is False


def test_execution_log_group_is_the_stack_s_encrypted_and_expiring(templates: dict) -> None:
    for env in templates:
        resources = templates[env]["Resources"]
        group = resources["ApiExecutionLogGroup"]
        settings = settings_for(env)
        # GIVEN the group API Gateway writes a stage's execution logs to
        assert group["Properties"]["LogGroupName"] == {
            "Fn::Sub": ["API-Gateway-Execution-Logs_${Api}/${Environment}", {"Api": {"Ref": Resources.REST_API}}]
        }
        # THEN it has the environment's retention and policy and the stack's key, and the stage
        # waits for it (else API Gateway makes its own, unencrypted and kept forever)
        assert group["Properties"]["RetentionInDays"] == settings.log_retention_days
        assert group["DeletionPolicy"] == ("Retain" if settings.retain_logs else "Delete")
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [Resources.KEY, "Arn"]}
        assert "ApiExecutionLogGroup" in resources[Resources.STAGE]["DependsOn"]


def test_stage_waits_for_the_accounts_logging_role(dev: dict) -> None:
    account = dev["Resources"]["ApiGatewayAccount"]
    assert dev["Resources"][Resources.STAGE]["DependsOn"] == ["ApiExecutionLogGroup", "ApiGatewayAccount"]
    role = dev["Resources"][account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]]
    assert role["DeletionPolicy"] == "Retain", "other stacks' APIs may log through this role"


def test_account_logging_can_be_left_to_others() -> None:
    t = build_template(replace(settings_for("dev"), manage_api_gateway_account=False)).to_dict()
    assert "ApiGatewayAccount" not in t["Resources"]
    # AND the stage still logs errors (the account's own CloudWatch role must then be set elsewhere)
    stage = t["Resources"][Resources.STAGE]
    assert stage["DependsOn"] == ["ApiExecutionLogGroup"]
    assert stage["Properties"]["MethodSettings"][0]["LoggingLevel"] == "ERROR"
