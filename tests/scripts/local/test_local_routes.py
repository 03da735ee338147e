"""The local gateway's routes, validator and expressions come from the template itself."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pytest

from scripts.local.gateway.intrinsics import Resolver, UnresolvableError, referenced_ids
from scripts.local.gateway.routes import FUNCTION, RestApi, TemplateError, rest_api_from_template
from scripts.local.gateway.validation import RequestRejected, RequestValidator
from tracking_templates import sources
from tracking_templates.cli import render


@lru_cache(maxsize=None)
def real_template_text(env: str = "dev") -> str:
    """The template `python -m tracking_templates --env ENV` writes."""
    return render(env)


def real_template(env: str = "dev") -> dict[str, Any]:
    """A fresh dict of the real template."""
    return json.loads(real_template_text(env))


def resolver_for(template: dict[str, Any], parameters: dict[str, str] | None = None, physical: dict | None = None) -> Resolver:
    """A resolver with the given stack values (no emulator)."""
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "tracking-test"}
    return Resolver(template, parameters or {}, physical or {}, pseudo)


@pytest.fixture(scope="module")
def api() -> RestApi:
    """The real template's REST API, stage from the Environment parameter's default."""
    return rest_api_from_template(resolver_for(real_template()))


def test_routes_are_the_templates_methods(api: RestApi) -> None:
    # GIVEN the real template  # WHEN its API is read
    template = real_template()
    declared = {(r["Properties"]["HttpMethod"], r["Properties"]["AuthorizationType"])
                for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"}
    # THEN every method is a route, paths chained from PathParts, each pointing at a Lambda function
    assert {(r.method, r.authorization) for r in api.routes} == declared
    assert {(r.method, r.path) for r in api.routes} == {("GET", "/status"), ("POST", "/track"), ("GET", "/shipments")}
    for route in api.routes:
        assert route.integration_type == "AWS_PROXY"
        assert template["Resources"][route.function]["Type"] == FUNCTION



def test_get_shipments_requires_only_status(api: RestApi) -> None:
    # GIVEN GET /shipments  # THEN the gateway checks status before the handler; limit and last_key are optional
    route = api.match("GET", "/shipments").route
    assert route.validate_parameters and route.authorization == "AWS_IAM"
    assert [(p.location, p.name) for p in route.required] == [("querystring", "status")]

def test_post_track_model_is_the_request_schema_file(api: RestApi) -> None:
    # GIVEN POST /track  # THEN its validator checks bodies against the one schema file
    route = api.match("POST", "/track").route
    assert route.validate_body
    assert dict(route.models["application/json"].schema) == sources.tracking_update_schema()


def test_get_status_requires_only_tracking_id(api: RestApi) -> None:
    # GIVEN GET /status  # THEN only tracking_id is a required query parameter
    route = api.match("GET", "/status").route
    assert route.validate_parameters
    assert [(p.location, p.name) for p in route.required] == [("querystring", "tracking_id")]


@pytest.mark.parametrize("env", ["dev", "qa-2"])
def test_stage_is_the_environment(env: str) -> None:
    # GIVEN the template of ENV (stage named by the Environment parameter)  # WHEN read
    api = rest_api_from_template(resolver_for(real_template(env)))
    # THEN the stage is ENV
    assert api.stage_name == env


def test_deployed_parameter_value_wins_over_default() -> None:
    # GIVEN a stack deployed with Environment=other  # THEN the stage follows the deployed value
    api = rest_api_from_template(resolver_for(real_template(), {"Environment": "other"}))
    assert api.stage_name == "other"


@pytest.mark.parametrize("method, path", [("GET", "/track"), ("DELETE", "/status"), ("GET", "/"), ("GET", "/track/x")])
def test_unknown_method_or_path_has_no_route(api: RestApi, method: str, path: str) -> None:
    # GIVEN a method or path the template does not declare  # THEN no route
    assert api.match(method, path) is None


def _synthetic(paths: dict[str, str | None], methods: list[tuple[str, str]]) -> dict[str, Any]:
    """A template with resources {logical: (path_part, parent)} and methods [(resource, verb)]."""
    resources: dict[str, Any] = {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "x"}},
                                 "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}
    for logical, spec in paths.items():
        part, parent = spec.split("@")
        parent_ref = {"Fn::GetAtt": ["Api", "RootResourceId"]} if parent == "root" else {"Ref": parent}
        resources[logical] = {"Type": "AWS::ApiGateway::Resource",
                              "Properties": {"RestApiId": {"Ref": "Api"}, "ParentId": parent_ref, "PathPart": part}}
    for i, (logical, verb) in enumerate(methods):
        resources[f"M{i}"] = {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": logical}, "HttpMethod": verb, "AuthorizationType": "NONE",
            "Integration": {"Type": "AWS_PROXY", "Uri": {"Fn::Sub": "arn:aws:apigateway:r:lambda:path/${Fn.Arn}/x"}}}}
    resources["Stage"] = {"Type": "AWS::ApiGateway::Stage",
                          "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1", "Variables": {"k": "v"}}}
    return {"Resources": resources}


def test_literal_beats_parameter_beats_greedy_and_any_is_a_fallback() -> None:
    # GIVEN /items/{id}, /items/special, /files/{path+} with ANY, and GET on /items/{id}
    template = _synthetic(
        {"Items": "items@root", "Item": "{id}@Items", "Special": "special@Items", "Files": "files@root",
         "Proxy": "{path+}@Files"},
        [("Item", "GET"), ("Special", "POST"), ("Proxy", "ANY")],
    )
    api = rest_api_from_template(resolver_for(template))
    # WHEN requests are matched  # THEN the most specific resource wins, then its method (or ANY)
    item = api.match("GET", "/items/a%20b")
    assert (item.route.path, dict(item.path_parameters)) == ("/items/{id}", {"id": "a b"})
    assert api.match("POST", "/items/special").route.path == "/items/special"
    assert api.match("GET", "/items/special") is None  # the literal resource has no GET
    proxy = api.match("PUT", "/files/a/b/c")
    assert (proxy.route.method, dict(proxy.path_parameters)) == ("ANY", {"path": "a/b/c"})
    assert api.match("GET", "/files") is None
    assert api.stage_name == "v1" and api.stage_variables == {"k": "v"}
    assert all(r.function == "Fn" for r in api.routes)


def test_template_without_a_rest_api_is_an_error() -> None:
    # GIVEN no RestApi  # THEN a clear error
    with pytest.raises(TemplateError, match="expected one"):
        rest_api_from_template(resolver_for({"Resources": {}}))


VALID = {"tracking_id": "PKG-1", "status": "pending", "location": {"lat": 1.5, "lng": -2}}


@pytest.fixture(scope="module")
def validator(api: RestApi) -> RequestValidator:
    """The real template's validator."""
    return RequestValidator(api)


@pytest.mark.parametrize(
    "raw",
    [
        b"", b"not json", b"[]", b'{"tracking_id": "x"}',
        json.dumps({**VALID, "status": "lost"}).encode(),
        json.dumps({**VALID, "location": {"lat": True, "lng": 0}}).encode(),
        json.dumps({**VALID, "tracking_id": ""}).encode(),
        json.dumps({**VALID, "extra": 1}).encode(),
        b'{"tracking_id": "x", "status": "pending", "location": {"lat": NaN, "lng": 0}}',
        b'{"tracking_id": "x", "status": "pending", "location": {"lat": Infinity, "lng": 0}}',
    ],
)
def test_bodies_failing_the_model_are_invalid(api: RestApi, validator: RequestValidator, raw: bytes) -> None:
    # GIVEN a body that breaks the model  # WHEN POST /track is validated  # THEN API Gateway's message
    with pytest.raises(RequestRejected) as caught:
        validator.check(api.match("POST", "/track").route, {}, {"Content-Type": "application/json"}, {}, raw)
    assert (caught.value.status, caught.value.message) == (400, "Invalid request body")


def test_valid_body_and_content_type_rules(api: RestApi, validator: RequestValidator) -> None:
    route = api.match("POST", "/track").route
    # GIVEN a valid body with or without charset, or with no Content-Type  # THEN accepted
    for headers in ({"content-type": "application/json; charset=utf-8"}, {}):
        validator.check(route, {}, headers, {}, json.dumps(VALID).encode())
    # AND an unmodelled content type is not validated (as API Gateway does; the handler still checks)
    validator.check(route, {}, {"Content-Type": "text/plain"}, {}, b"anything")
    # BUT with no Content-Type the application/json model applies
    with pytest.raises(RequestRejected):
        validator.check(route, {}, {}, {}, b"anything")


@pytest.mark.parametrize("query", [{}, {"tracking_id": [""]}, {"tracking_id": ["  "]}, {"limit": ["5"]}])
def test_required_query_parameter_missing_or_blank(api: RestApi, validator: RequestValidator, query: dict) -> None:
    # GIVEN GET /status without a usable tracking_id  # THEN the parameter is named
    with pytest.raises(RequestRejected, match=r"^Missing required request parameters: \[tracking_id\]$"):
        validator.check(api.match("GET", "/status").route, query, {}, {}, b"")


def test_required_query_parameter_present(api: RestApi, validator: RequestValidator) -> None:
    # GIVEN tracking_id  # THEN accepted (the optional limit/last_key are not required)
    validator.check(api.match("GET", "/status").route, {"tracking_id": ["PKG-1"]}, {}, {}, b"")


def test_function_environment_resolves_against_the_stack() -> None:
    # GIVEN the real template and a stack's physical ids for every resource the API function refers to
    template = real_template()
    api = rest_api_from_template(resolver_for(template))
    function_id = api.routes[0].function
    variables = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    physical = {name: f"physical-{name}" for name in referenced_ids(variables) if name in template["Resources"]}
    resolver = resolver_for(template, {"Environment": "dev"}, physical)
    # WHEN the variables are resolved
    resolved = resolver.resolve(variables)
    # THEN exactly the names the handler reads, each a concrete string from the stack
    assert set(resolved) == set(sources.tracking_env().ALL)
    assert resolved[sources.tracking_env().ENVIRONMENT] == "dev"
    assert resolved[sources.tracking_env().TABLE_NAME].startswith("physical-")
    assert all(isinstance(v, str) and "Ref" not in v for v in resolved.values())


def test_intrinsics() -> None:
    # GIVEN a resolver with parameters, physical ids, conditions and mappings
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}, "Email": {"Type": "String", "Default": ""}},
        "Conditions": {"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]}},
        "Mappings": {"M": {"aws": {"Host": "console.aws.amazon.com"}}},
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table"},
                      "Model": {"Type": "AWS::ApiGateway::Model", "Properties": {"Name": "TheModel"}}},
    }
    r = resolver_for(template, {"Env": "qa"}, {"Table": "tbl-1"})
    # WHEN expressions are evaluated  # THEN as CloudFormation would
    assert r.resolve({"Fn::Sub": "${Env}-${Table}-${AWS::Region}-${!Literal}"}) == "qa-tbl-1-us-east-1-${Literal}"
    assert r.resolve({"Fn::Sub": ["${X}/${Env}", {"X": {"Ref": "Table"}}]}) == "tbl-1/qa"
    assert r.resolve({"Fn::Join": [":", ["a", {"Ref": "Env"}]]}) == "a:qa"
    assert r.resolve({"Fn::If": ["HasEmail", "yes", "no"]}) == "no"
    assert r.resolve({"Fn::FindInMap": ["M", {"Ref": "AWS::Partition"}, "Host"]}) == "console.aws.amazon.com"
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert r.resolve({"Ref": "Model"}) == "TheModel"  # a type the emulator skips: named by the template
    assert r.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    with pytest.raises(UnresolvableError):
        r.resolve({"Ref": "Nothing"})
    with pytest.raises(UnresolvableError):
        r.resolve({"Fn::GetAtt": ["Table", "Arn"]})  # no stack to read attributes from
