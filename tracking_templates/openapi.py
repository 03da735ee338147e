"""An OpenAPI 3.0 description of the API, from the same routes and request schema as the template.

OpenAPI 3.0, not 3.1: API Gateway imports and exports 3.0. Partners generate clients from it;
a test checks it against the template's `AWS::ApiGateway::*` resources route for route.
"""

from __future__ import annotations

import json

from . import sources
from .names import REQUEST_VALIDATOR_NAME
from .routes import Parameter, Route, routes
from .settings import Settings

OPENAPI_VERSION = "3.0.3"
# The document's own version: raise it when the API's contract changes.
API_VERSION = "1.0.0"
SECURITY_SCHEME = "sigv4"
JSON = "application/json"
# API Gateway's words for where a parameter goes -> OpenAPI's.
_LOCATIONS = {"querystring": "query", "header": "header"}


def _ref(name: str, kind: str = "schemas") -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _object(required: list[str], properties: dict, description: str) -> dict:
    return {"type": "object", "description": description, "required": required, "properties": properties}


def request_schema() -> dict:
    """The request schema file as an OpenAPI 3.0 Schema Object (which has no `$schema` keyword)."""
    schema = sources.tracking_update_schema()
    del schema["$schema"]
    return schema


def _page(asked: tuple[str, dict], items: tuple[str, str, str], description: str) -> dict:
    """A GET answer: what was asked for, a page of ITEMS (name, component, order), its count and next_key."""
    (asked_name, asked_schema), (items_name, component, order) = asked, items
    return _object([asked_name, items_name, "count"], {
        asked_name: asked_schema,
        items_name: {"type": "array", "items": _ref(component), "description": order},
        "count": {"type": "integer", "minimum": 0},
        "next_key": {"type": "string", "description": "present when there is another page: send it back as last_key"},
    }, description)


def _schemas() -> dict[str, dict]:
    update = request_schema()
    fields = update["properties"]
    timestamp = {"type": "integer", "format": "int64", "description": "epoch milliseconds"}
    shipment = {
        "tracking_id": fields["tracking_id"],
        "status": fields["status"],
        "timestamp": timestamp,
        "location": fields["location"],
        "metadata": fields["metadata"],
    }
    return {
        "TrackingUpdate": update,
        "TrackAnswer": _object(["message", "tracking_id", "timestamp"], {
            "message": {"type": "string", "example": "Tracking update stored"},
            "tracking_id": fields["tracking_id"],
            "timestamp": {**timestamp, "description": "epoch milliseconds; with tracking_id the stored update's key"},
        }, "The update was stored"),
        "StoredUpdate": _object(["tracking_id", "timestamp", "status", "location"], {
            **shipment,
            "environment": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time", "description": "ISO 8601 UTC, from timestamp"},
        }, "One stored update"),
        "StatusPage": _page(("tracking_id", fields["tracking_id"]), ("updates", "StoredUpdate", "newest first"),
                            "A page of one shipment's updates; an unknown tracking_id has none"),
        "Shipment": _object(["tracking_id", "status", "timestamp", "location"], shipment,
                            "A shipment, as its latest update"),
        "ShipmentsPage": _page(("status", fields["status"]), ("shipments", "Shipment", "newest latest-update first"),
                               "A page of the shipments whose latest update has this status"),
        "Error": _object(["error"], {"error": {"type": "string"}}, "The function's answer: what is wrong"),
        "GatewayMessage": _object(["message"], {"message": {"type": "string"}}, "API Gateway's own answer"),
    }


def _answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _responses() -> dict[str, dict]:
    """Every answer either layer gives: the function's `{"error"}` and API Gateway's `{"message"}`."""
    return {
        "BadRequest": _answer(
            "The function's {\"error\": reason} (malformed JSON, a value out of range, a bad page token...), or "
            "API Gateway's {\"message\": \"Invalid request body\"} (the body fails the model) or "
            "{\"message\": \"Missing required request parameters: [...]\"}",
            {"oneOf": [_ref("Error"), _ref("GatewayMessage")]},
        ),
        "Forbidden": _answer(
            "API Gateway: not signed (\"Missing Authentication Token\", also for an unknown route), a bad "
            "signature, or a caller not allowed to invoke the API", _ref("GatewayMessage")),
        "PayloadTooLarge": _answer("API Gateway: a body over 10 MB", _ref("GatewayMessage")),
        "TooManyRequests": _answer("API Gateway: the stage's throttling (\"Too Many Requests\")", _ref("GatewayMessage")),
        "InternalError": _answer("The function failed: {\"error\": \"Internal server error\"}, no detail", _ref("Error")),
        "BadGateway": _answer("API Gateway: the function could not be invoked or answered malformed",
                              _ref("GatewayMessage")),
        "GatewayTimeout": _answer("API Gateway: the function did not answer within 29 s", _ref("GatewayMessage")),
    }


_STATUS = {"BadRequest": "400", "Forbidden": "403", "PayloadTooLarge": "413", "TooManyRequests": "429",
           "InternalError": "500", "BadGateway": "502", "GatewayTimeout": "504"}


def _parameter(parameter: Parameter) -> dict:
    return {
        "name": parameter.name,
        "in": _LOCATIONS[parameter.location],
        "required": parameter.required,
        "description": parameter.description,
        "schema": parameter.schema,
    }


def _operation(route: Route) -> dict:
    errors = [name for name in _STATUS if name != "PayloadTooLarge" or route.body]
    operation = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "security": [{SECURITY_SCHEME: []}],
        "responses": {
            "200": _answer("OK", _ref(route.answer)),
            **{_STATUS[name]: _ref(name, "responses") for name in errors},
        },
        "x-amazon-apigateway-request-validator": REQUEST_VALIDATOR_NAME,
    }
    if route.parameters:
        operation["parameters"] = [_parameter(p) for p in route.parameters]
    if route.body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref("TrackingUpdate")}}}
    return operation


def document(settings: Settings) -> dict:
    """The OpenAPI 3.0 document of the API as deployed for SETTINGS' environment."""
    paths: dict[str, dict] = {}
    for route in routes():
        paths.setdefault(f"/{route.path}", {})[route.method.lower()] = _operation(route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Logistics tracking API",
            "version": API_VERSION,
            "description": (
                "Store and read shipments' tracking updates. Every request is signed with AWS "
                "Signature Version 4 (service execute-api) by a principal allowed to invoke the API. "
                "All bodies are JSON."
            ),
        },
        "servers": [{
            "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
            "description": "the stack's ApiEndpoint output",
            "variables": {
                "api_id": {"default": "API_ID", "description": "the stack's ApiId output"},
                "region": {"default": "us-east-1"},
                "stage": {"default": settings.env, "description": "the environment"},
            },
        }],
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    # How API Gateway exports and imports IAM (SigV4) authorization.
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                },
            },
        },
        "x-amazon-apigateway-request-validators": {
            REQUEST_VALIDATOR_NAME: {"validateRequestBody": True, "validateRequestParameters": True},
        },
    }


def to_json(settings: Settings) -> str:
    """The document as JSON text, byte-identical for the same settings."""
    return json.dumps(document(settings), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
