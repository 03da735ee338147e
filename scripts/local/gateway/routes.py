"""The REST API as the template declares it: resources, methods, validators, models, stage.

Nothing here repeats a rule of this project's API; every route, authorization type, required
parameter and body schema is read from the template's `AWS::ApiGateway::*` resources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .intrinsics import Resolver, ref_target, referenced_ids

REST_API = "AWS::ApiGateway::RestApi"
RESOURCE = "AWS::ApiGateway::Resource"
METHOD = "AWS::ApiGateway::Method"
MODEL = "AWS::ApiGateway::Model"
VALIDATOR = "AWS::ApiGateway::RequestValidator"
STAGE = "AWS::ApiGateway::Stage"
DEPLOYMENT = "AWS::ApiGateway::Deployment"
FUNCTION = "AWS::Lambda::Function"


class TemplateError(ValueError):
    """The template has no REST API the local gateway can serve."""


@dataclass(frozen=True)
class Model:
    """An `AWS::ApiGateway::Model`: a name and its JSON schema."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class RequiredParameter:
    """A `method.request.<location>.<name>` the method marks as required."""

    location: str  # querystring | header | path
    name: str


@dataclass(frozen=True)
class Route:
    """One method of one resource, with what API Gateway checks before the integration."""

    resource_id: str  # logical id of the AWS::ApiGateway::Resource (or the RestApi for "/")
    path: str  # resource path template, e.g. "/track" or "/items/{id}"
    method: str  # GET, POST, ... or ANY
    authorization: str  # NONE | AWS_IAM | ...
    integration_type: str  # AWS_PROXY, MOCK, ...
    function: str | None  # logical id of the integration's Lambda function
    validate_body: bool = False
    validate_parameters: bool = False
    models: Mapping[str, Model] = field(default_factory=dict)  # content type -> model
    required: tuple[RequiredParameter, ...] = ()


@dataclass(frozen=True)
class Match:
    """A request's route and the path parameters it captured."""

    route: Route
    path_parameters: Mapping[str, str]


@dataclass(frozen=True)
class RestApi:
    """The template's REST API and the stage it is served under."""

    logical_id: str
    stage_name: str
    stage_variables: Mapping[str, str] | None
    routes: tuple[Route, ...]

    def resource_paths(self) -> list[str]:
        """Every resource path that has at least one method."""
        return sorted({r.path for r in self.routes})

    def match(self, method: str, path: str) -> Match | None:
        """The route for a request path (without the stage), or None where API Gateway has none."""
        segments = _segments(path)
        best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
        for template_path in self.resource_paths():
            captured = _match_path(_segments(template_path), segments)
            if captured is None:
                continue
            rank = tuple(_segment_rank(s) for s in _segments(template_path))
            if best is None or rank < best[0]:
                best = (rank, template_path, captured)
        if best is None:
            return None
        _, template_path, captured = best
        candidates = {r.method: r for r in self.routes if r.path == template_path}
        route = candidates.get(method.upper()) or candidates.get("ANY")
        return Match(route, captured) if route else None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _segment_rank(segment: str) -> int:
    # Literal segments win over {param}, which wins over a greedy {param+}.
    if segment.startswith("{") and segment.endswith("+}"):
        return 2
    return 1 if segment.startswith("{") else 0


def _match_path(template: list[str], actual: list[str]) -> dict[str, str] | None:
    captured: dict[str, str] = {}
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            rest = actual[i:]
            if not rest:
                return None
            captured[part[1:-2]] = "/".join(unquote(s) for s in rest)
            return captured if i == len(template) - 1 else None
        if i >= len(actual):
            return None
        if part.startswith("{") and part.endswith("}"):
            captured[part[1:-1]] = unquote(actual[i])
        elif part != unquote(actual[i]):
            return None
    return captured if len(template) == len(actual) else None


def _of_type(resources: Mapping[str, Any], type_name: str) -> dict[str, Mapping[str, Any]]:
    return {k: v for k, v in resources.items() if v.get("Type") == type_name}


def _belongs_to(props: Mapping[str, Any], api_id: str) -> bool:
    return ref_target(props.get("RestApiId")) == api_id


def _resource_path(logical_id: str, api_id: str, resources: Mapping[str, Any]) -> str:
    parts: list[str] = []
    seen: set[str] = set()
    current = logical_id
    while current != api_id:
        if current in seen or current not in resources:
            raise TemplateError(f"resource {logical_id} does not chain up to the API {api_id}")
        seen.add(current)
        props = resources[current]["Properties"]
        parts.append(props["PathPart"])
        current = ref_target(props["ParentId"]) or ""
    return "/" + "/".join(reversed(parts))


def _schema(raw: Any) -> Mapping[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _target_function(integration: Mapping[str, Any], resources: Mapping[str, Any]) -> str | None:
    targets = [i for i in referenced_ids(integration.get("Uri")) if resources.get(i, {}).get("Type") == FUNCTION]
    return targets[0] if len(targets) == 1 else None


def _route(method_props: Mapping[str, Any], path: str, resource_id: str, resolver: Resolver) -> Route:
    resources = resolver.resources
    integration = method_props.get("Integration", {})
    validator = resources.get(ref_target(method_props.get("RequestValidatorId")) or "", {}).get("Properties", {})
    models: dict[str, Model] = {}
    for content_type, model_ref in (method_props.get("RequestModels") or {}).items():
        model_id = ref_target(model_ref)
        model_props = resources.get(model_id or "", {}).get("Properties")
        if model_props is None:
            raise TemplateError(f"request model {model_ref!r} is not a resource of the template")
        models[content_type.lower()] = Model(str(resolver.resolve(model_props.get("Name", model_id))), _schema(model_props["Schema"]))
    required = []
    for key, flag in (method_props.get("RequestParameters") or {}).items():
        _, _, location, name = key.split(".", 3)
        if _is_true(flag):
            required.append(RequiredParameter(location, name))
    return Route(
        resource_id=resource_id,
        path=path,
        method=str(method_props["HttpMethod"]).upper(),
        authorization=str(method_props.get("AuthorizationType", "NONE")).upper(),
        integration_type=str(integration.get("Type", "")).upper(),
        function=_target_function(integration, resources),
        validate_body=_is_true(validator.get("ValidateRequestBody", False)),
        validate_parameters=_is_true(validator.get("ValidateRequestParameters", False)),
        models=models,
        required=tuple(required),
    )


def _stage(api_id: str, resolver: Resolver) -> tuple[str, Mapping[str, str] | None]:
    resources = resolver.resources
    for props in (r.get("Properties", {}) for r in _of_type(resources, STAGE).values()):
        if _belongs_to(props, api_id) and "StageName" in props:
            variables = props.get("Variables")
            return str(resolver.resolve(props["StageName"])), (resolver.resolve(variables) if variables else None)
    for props in (r.get("Properties", {}) for r in _of_type(resources, DEPLOYMENT).values()):
        if _belongs_to(props, api_id) and "StageName" in props:
            return str(resolver.resolve(props["StageName"])), None
    raise TemplateError(f"no stage is deployed for the API {api_id}")


def rest_api_from_template(resolver: Resolver) -> RestApi:
    """Read the template's (single) REST API into routes and a stage."""
    resources = resolver.resources
    apis = _of_type(resources, REST_API)
    if len(apis) != 1:
        raise TemplateError(f"expected one {REST_API} in the template, found {len(apis)}")
    (api_id,) = apis
    api_resources = {k: v for k, v in _of_type(resources, RESOURCE).items() if _belongs_to(v["Properties"], api_id)}
    routes = []
    for props in (m["Properties"] for m in _of_type(resources, METHOD).values()):
        if not _belongs_to(props, api_id):
            continue
        resource_id = ref_target(props["ResourceId"]) or api_id
        path = "/" if resource_id == api_id else _resource_path(resource_id, api_id, api_resources)
        routes.append(_route(props, path, resource_id, resolver))
    stage_name, stage_variables = _stage(api_id, resolver)
    return RestApi(api_id, stage_name, stage_variables, tuple(sorted(routes, key=lambda r: (r.path, r.method))))
