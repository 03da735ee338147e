"""The OpenAPI description: valid OpenAPI 3.0, and the template's API route for route."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from tracking_templates import openapi, routes, sources
from tracking_templates.cli import main
from tracking_templates.names import REQUEST_VALIDATOR_NAME, Resources
from tracking_templates.render import to_json
from tracking_templates.settings import settings_for
from tracking_templates.template import build_template

from .conftest import ENVIRONMENTS, resources_of_type

REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    """env -> the OpenAPI document."""
    return {env: openapi.document(settings_for(env)) for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_document_is_valid_openapi_3_0(documents: dict[str, dict], env: str) -> None:
    document = documents[env]
    # API Gateway imports and exports 3.0, not 3.1
    assert document["openapi"] == "3.0.3"
    errors = [error.message for error in OpenAPIV30SpecValidator(document).iter_errors()]
    assert errors == []


def _template_routes(template: dict) -> dict[tuple[str, str], dict]:
    """(METHOD, /path) -> what API Gateway checks, read from the template's resources."""
    found = {}
    for method in resources_of_type(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = template["Resources"][props["ResourceId"]["Ref"]]
        assert resource["Type"] == "AWS::ApiGateway::Resource"
        # every route hangs off the root: one path segment
        assert resource["Properties"]["ParentId"] == {"Fn::GetAtt": [Resources.REST_API, "RootResourceId"]}
        validator = template["Resources"][props["RequestValidatorId"]["Ref"]]["Properties"]
        model = props.get("RequestModels", {}).get("application/json")
        found[(props["HttpMethod"], "/" + resource["Properties"]["PathPart"])] = {
            "parameters": {
                tuple(key.split(".", 3)[2:]): required for key, required in props.get("RequestParameters", {}).items()
            },
            "body": template["Resources"][model["Ref"]]["Properties"]["Schema"] if model else None,
            "sigv4": props["AuthorizationType"] == "AWS_IAM",
            "validator": (validator["Name"], validator["ValidateRequestBody"], validator["ValidateRequestParameters"]),
        }
    return found


def _document_routes(document: dict) -> dict[tuple[str, str], dict]:
    """The same, read from the OpenAPI document."""
    schemes = document["components"]["securitySchemes"]
    validators = document["x-amazon-apigateway-request-validators"]
    locations = {"query": "querystring", "header": "header"}
    found = {}
    for path, item in document["paths"].items():
        for http_method, operation in item.items():
            assert http_method in HTTP_METHODS
            body = operation.get("requestBody")
            schema = None
            if body is not None:
                assert body["required"] is True
                ref = body["content"]["application/json"]["schema"]["$ref"]
                schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            (requirement,) = operation.get("security", document["security"])
            (scheme,) = requirement
            name = operation["x-amazon-apigateway-request-validator"]
            found[(http_method.upper(), path)] = {
                "parameters": {(locations[p["in"]], p["name"]): p["required"] for p in operation.get("parameters", [])},
                "body": schema,
                "sigv4": schemes[scheme] == {"type": "apiKey", "name": "Authorization", "in": "header",
                                             "x-amazon-apigateway-authtype": "awsSigv4"},
                "validator": (name, validators[name]["validateRequestBody"], validators[name]["validateRequestParameters"]),
            }
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_document_agrees_with_the_template_route_for_route(templates: dict, documents: dict, env: str) -> None:
    # GIVEN the routes as the template declares them to API Gateway, and as the document describes them
    from_template, from_document = _template_routes(templates[env]), _document_routes(documents[env])
    # THEN the same routes, each with the same parameters (and required flags), body schema, auth and validation
    assert set(from_template) == {("POST", "/track"), ("GET", "/status"), ("GET", "/shipments")}
    for route, described in from_document.items():
        expected = from_template[route]
        expected["body"] = expected["body"] and {k: v for k, v in expected["body"].items() if k != "$schema"}
        assert described == expected, route
    assert set(from_document) == set(from_template)


def test_the_request_body_is_the_schema_file() -> None:
    schema = openapi.document(settings_for("dev"))["components"]["schemas"]["TrackingUpdate"]
    assert schema == {k: v for k, v in sources.tracking_update_schema().items() if k != "$schema"}
    assert schema["required"] == ["tracking_id", "status", "location"] and schema["additionalProperties"] is False


def test_parameters_pin_what_the_handler_accepts(documents: dict) -> None:
    paths = documents["dev"]["paths"]
    status = {p["name"]: p for p in paths["/status"]["get"]["parameters"]}
    shipments = {p["name"]: p for p in paths["/shipments"]["get"]["parameters"]}
    assert [p["name"] for p in paths["/status"]["get"]["parameters"]] == ["tracking_id", "limit", "last_key"]
    assert status["tracking_id"] == {"name": "tracking_id", "in": "query", "required": True, "description": "the shipment",
                                     "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"}}
    assert status["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    assert status["limit"]["required"] is False and status["last_key"]["required"] is False
    assert shipments["status"]["required"] is True
    assert shipments["status"]["schema"] == {"type": "string", "enum": ["pending", "in_transit", "delivered", "failed"]}
    assert shipments["limit"] == status["limit"]


def test_page_limits_are_the_handlers() -> None:
    # The handler's rule lives with the handler; the routes restate it for the document.
    function_dir = str(REPO_ROOT / "functions" / "tracking")
    sys.path.insert(0, function_dir)
    try:
        from tracking_api import validation
    finally:
        sys.path.remove(function_dir)
    assert (routes.DEFAULT_LIMIT, routes.MAX_LIMIT) == (validation.DEFAULT_LIMIT, validation.MAX_LIMIT)


def test_every_answer_of_both_layers_is_described(documents: dict) -> None:
    document = documents["dev"]
    codes = {(method.upper(), path): sorted(op["responses"]) for path, item in document["paths"].items()
             for method, op in item.items()}
    errors = ["400", "403", "429", "500", "502", "504"]
    assert codes == {
        ("POST", "/track"): sorted(["200", "413", *errors]),
        ("GET", "/status"): sorted(["200", *errors]),
        ("GET", "/shipments"): sorted(["200", *errors]),
    }
    responses = document["components"]["responses"]
    schema_of = {name: r["content"]["application/json"]["schema"] for name, r in responses.items()}
    # the function answers {"error"}; API Gateway {"message"}; a 400 may be either
    assert schema_of["BadRequest"] == {"oneOf": [{"$ref": "#/components/schemas/Error"},
                                                 {"$ref": "#/components/schemas/GatewayMessage"}]}
    assert schema_of["InternalError"] == {"$ref": "#/components/schemas/Error"}
    for name in ("Forbidden", "PayloadTooLarge", "TooManyRequests", "BadGateway", "GatewayTimeout"):
        assert schema_of[name] == {"$ref": "#/components/schemas/GatewayMessage"}


def _validator(document: dict, name: str) -> OAS30Validator:
    # The components beside the $ref: the document's own refs (#/components/...) resolve in it.
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


@pytest.mark.parametrize(
    ("name", "body", "valid"),
    [
        ("TrackAnswer", {"message": "Tracking update stored", "tracking_id": "TRK-0001", "timestamp": 1795895100123}, True),
        ("TrackAnswer", {"message": "Tracking update stored", "tracking_id": "TRK-0001", "timestamp": "1795895100123"}, False),
        ("StatusPage", {"tracking_id": "T", "updates": [], "count": 0}, True),
        ("StatusPage", {"tracking_id": "T", "count": 1, "next_key": "abc", "updates": [
            {"tracking_id": "T", "timestamp": 1, "status": "delivered", "location": {"lat": 1, "lng": 2},
             "environment": "dev", "created_at": "2026-12-06T16:00:00.001Z"}]}, True),
        ("ShipmentsPage", {"status": "failed", "shipments": [
            {"tracking_id": "T", "timestamp": 1, "status": "failed", "location": {"lat": 1, "lng": 2}, "metadata": {}}],
            "count": 1}, True),
        ("ShipmentsPage", {"status": "lost", "shipments": [], "count": 0}, False),
        ("Error", {"error": "limit must be an integer from 1 to 100"}, True),
        ("GatewayMessage", {"message": "Missing Authentication Token"}, True),
        ("TrackingUpdate", {"tracking_id": "T", "status": "pending", "location": {"lat": 91, "lng": 0}}, False),
    ],
)
def test_the_schemas_accept_the_apis_answers(documents: dict, name: str, body: dict, valid: bool) -> None:
    assert _validator(documents["dev"], name).is_valid(body) is valid


def test_sigv4_security_and_the_stage_per_environment(documents: dict) -> None:
    for env, document in documents.items():
        assert document["security"] == [{"sigv4": []}]
        assert document["components"]["securitySchemes"] == {"sigv4": {
            "type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}}
        (server,) = document["servers"]
        assert server["url"] == "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"
        assert server["variables"]["stage"]["default"] == env
        assert document["x-amazon-apigateway-request-validators"] == {
            REQUEST_VALIDATOR_NAME: {"validateRequestBody": True, "validateRequestParameters": True}}


def test_a_route_change_reaches_both_the_template_and_the_document(monkeypatch) -> None:
    # GIVEN a parameter added to POST /track in the one route declaration (as a header would be)
    declared = routes.routes()
    header = routes.Parameter(name="Idempotency-Key", location="header", required=False,
                              description="a retry with the same key is answered once", schema={"type": "string"})
    changed = (declared[0]._replace(parameters=(header,)), *declared[1:])
    monkeypatch.setattr(routes, "routes", lambda: changed)
    import tracking_templates.api as api_module

    monkeypatch.setattr(api_module, "routes", lambda: changed)
    monkeypatch.setattr(openapi, "routes", lambda: changed)
    # WHEN both are generated
    template = json.loads(to_json(build_template(settings_for("dev"))))
    document = openapi.document(settings_for("dev"))
    # THEN both carry it, and still agree
    assert _template_routes(template)[("POST", "/track")]["parameters"] == {("header", "Idempotency-Key"): False}
    assert _document_routes(document)[("POST", "/track")]["parameters"] == {("header", "Idempotency-Key"): False}
    assert OpenAPIV30SpecValidator(document).is_valid()


def test_cli_writes_it_byte_identically(tmp_path: Path, capsys) -> None:
    # GIVEN two separate processes (different hash seeds) and the library
    runs = [subprocess.run([sys.executable, "-m", "tracking_templates", "--env", "prod", "--format", "openapi"],
                           capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=60) for _ in range(2)]
    # THEN the same JSON text, the library's
    assert [r.returncode for r in runs] == [0, 0] and runs[0].stderr == ""
    assert runs[0].stdout == runs[1].stdout == openapi.to_json(settings_for("prod"))
    assert main(["--format", "openapi", "--env", "staging", "-o", str(tmp_path / "api.json")]) == 0
    assert json.loads((tmp_path / "api.json").read_text(encoding="utf-8")) == openapi.document(settings_for("staging"))
