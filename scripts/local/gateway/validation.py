"""Request validation as API Gateway's request validators do it, before the integration runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

from .routes import Model, RestApi, Route

DEFAULT_CONTENT_TYPE = "application/json"
DEFAULT_MODEL_KEY = "$default"


class RequestRejected(Exception):
    """A request a validator refuses: 400 with API Gateway's message."""

    status = 400
    error_type = "BadRequestException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's parser would accept them.
    raise ValueError(f"{name} is not valid JSON")


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    if not content_type:
        return DEFAULT_CONTENT_TYPE
    return content_type.split(";", 1)[0].strip().lower()


def body_text(body: bytes) -> str:
    """The body as the proxy event carries it, strict UTF-8; RequestRejected when it is not UTF-8.

    The event's `body` is text: a body that is not UTF-8 (a lone surrogate's encoding, UTF-16)
    could only reach the function rewritten, two different ids read as one. Refused instead,
    whatever the route, before the model check (Python's json would guess UTF-16 from bytes).
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected("Invalid request body") from None


class RequestValidator:
    """Checks required parameters and body models of the API's routes (schemas compiled once)."""

    def __init__(self, api: RestApi) -> None:
        self._compiled: dict[int, Callable[[Any], Any]] = {}
        for route in api.routes:
            for model in route.models.values():
                self._compiled.setdefault(id(model), fastjsonschema.compile(dict(model.schema)))

    def _model_for(self, route: Route, content_type: str | None) -> Model | None:
        # API Gateway validates against the model mapped to the request's content type, or
        # the $default one; a content type with neither is not validated.
        return route.models.get(media_type(content_type)) or route.models.get(DEFAULT_MODEL_KEY)

    def check(
        self,
        route: Route,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        path_parameters: Mapping[str, str],
        body: bytes,
    ) -> None:
        """Raise RequestRejected if the route's validator would refuse this request."""
        lower_headers = {k.lower(): v for k, v in headers.items()}
        if route.validate_parameters:
            missing = []
            for param in route.required:
                if param.location == "querystring":
                    present = any(v.strip() for v in query.get(param.name, []))
                elif param.location == "header":
                    present = bool(lower_headers.get(param.name.lower(), "").strip())
                else:
                    present = bool(path_parameters.get(param.name, "").strip())
                if not present:
                    missing.append(param.name)
            if missing:
                raise RequestRejected(f"Missing required request parameters: [{', '.join(missing)}]")
        text = body_text(body)  # parameters first, as API Gateway's validator checks them
        if route.validate_body:
            model = self._model_for(route, lower_headers.get("content-type"))
            if model is None:
                return
            try:
                document = json.loads(text, parse_constant=_reject_constant)
                self._compiled[id(model)](document)
            except (ValueError, RecursionError, fastjsonschema.JsonSchemaException):
                raise RequestRejected("Invalid request body") from None
