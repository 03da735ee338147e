"""The request pipeline API Gateway runs for a REST API stage, in API Gateway's order.

stage -> route -> authorization (SigV4 for AWS_IAM) -> request validator -> Lambda proxy
integration -> the function's answer (or 502 when it fails or answers malformed).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .events import ApiRequest, Caller, StageInfo, proxy_event
from .functions import InProcessFunction
from .routes import RestApi
from .sigv4 import AuthError, Credentials, MissingAuthenticationToken, SignedRequest, header_value, verify
from .validation import RequestRejected, RequestValidator

log = logging.getLogger("scripts.local")

JSON = "application/json"
# Lambda's synchronous invocation payload limit (6 MB): the event, as JSON, in bytes.
INVOCATION_LIMIT = 6 * 1024 * 1024
# JSON escapes one body byte into at most 6 characters and the headers are bounded by the HTTP
# server, so a smaller body cannot make an event over the limit: only larger ones are measured.
_MEASURE_FROM = INVOCATION_LIMIT // 8
_SLASHES = re.compile("/{2,}")
TOO_LONG = "Request Too Long"  # API Gateway's answer to a payload over a limit (413)


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as it reached the server (raw path with its query string)."""

    method: str
    raw_path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"

    def header(self, name: str, default: str = "") -> str:
        """The last value of a header (case-insensitive)."""
        value = header_value(self.headers, name)
        return default if value is None else value


@dataclass(frozen=True)
class HttpResponse:
    """Status, headers and body to send back."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _gateway_answer(status: int, error_type: str, message: str, request_id: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode("utf-8")
    headers = (("Content-Type", JSON), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error_type))
    return HttpResponse(status, headers, body)


def _request_target(raw_path: str) -> tuple[str, str, str]:
    """A request target as sent in origin form (what the signature covers), its path with repeated
    slashes collapsed (as SigV4's canonical path collapses them) and its query string."""
    if not raw_path.startswith("/"):  # absolute form: http://host/path?query
        split = urlsplit(raw_path)
        raw_path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    # Not urlsplit on the origin form: it would read "//dev//status" as the host "dev" and the path "//status".
    path, _, query = raw_path.partition("?")
    return raw_path, _SLASHES.sub("/", path), query


def _too_long(request_id: str) -> HttpResponse:
    body = json.dumps({"message": TOO_LONG}).encode("utf-8")
    return HttpResponse(413, (("Content-Type", JSON), ("x-amzn-RequestId", request_id)), body)


def _integration_failure(request_id: str) -> HttpResponse:
    # What API Gateway answers when a proxy integration's function fails or answers malformed.
    body = json.dumps({"message": "Internal server error"}).encode("utf-8")
    return HttpResponse(502, (("Content-Type", JSON), ("x-amzn-RequestId", request_id)), body)


def _proxy_response(result: Any, request_id: str) -> HttpResponse | None:
    if not isinstance(result, Mapping):
        return None
    try:
        status = int(result.get("statusCode", 200))
        body_value = result.get("body")
        if body_value is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(body_value)
        else:
            body = str(body_value).encode("utf-8")
        headers: list[tuple[str, str]] = []
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, str(v)) for v in values)
        for name, value in (result.get("headers") or {}).items():
            if not any(h.lower() == name.lower() for h, _ in headers):
                headers.append((name, str(value)))
    except (TypeError, ValueError, AttributeError):
        return None
    if not any(h.lower() == "content-type" for h, _ in headers):
        headers.append(("Content-Type", JSON))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, tuple(headers), body)


class Gateway:
    """Answers HTTP requests for one REST API stage as API Gateway would."""

    def __init__(
        self,
        api: RestApi,
        stage: StageInfo,
        credentials: Credentials,
        region: str,
        functions: Mapping[str, InProcessFunction],
        caller: Caller,
    ) -> None:
        self.api = api
        self.stage = stage
        self._credentials = credentials
        self._region = region
        self._functions = functions
        self._caller = caller
        self._validator = RequestValidator(api)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """One request through the whole pipeline; never raises."""
        request_id = str(uuid.uuid4())
        try:
            return self._handle(request, request_id)
        except Exception:  # the gateway itself must answer, whatever happened behind it
            log.exception("request %s failed inside the local gateway", request_id)
            return _integration_failure(request_id)

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        target, full_path, query_string = _request_target(request.raw_path)
        stage_prefix = f"/{self.stage.stage}"
        if not (full_path == stage_prefix or full_path.startswith(stage_prefix + "/")):
            return _gateway_answer(403, "ForbiddenException", "Forbidden", request_id)
        path = full_path[len(stage_prefix):] or "/"
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        match = self.api.match(request.method, unquote(path))
        if match is None:
            error = MissingAuthenticationToken()
            return _gateway_answer(error.status, error.error_type, error.message, request_id)
        route = match.route

        caller = None
        if route.authorization == "AWS_IAM":
            host = request.header("Host", self.stage.domain_name)
            signed = SignedRequest(request.method, f"http://{host}{target}", request.headers, request.body)
            try:
                access_key = verify(signed, self._credentials, self._region)
            except AuthError as error:
                return _gateway_answer(error.status, error.error_type, error.message, request_id)
            caller = Caller(access_key, self._caller.account_id, self._caller.user_arn, self._caller.user_id)

        query = parse_qsl(query_string, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for key, value in query:
            multi_query.setdefault(key, []).append(value)
        try:
            self._validator.check(route, multi_query, dict(request.headers), match.path_parameters, request.body)
        except RequestRejected as error:
            return _gateway_answer(error.status, error.error_type, error.message, request_id)

        function = self._functions.get(route.function or "")
        if route.integration_type != "AWS_PROXY" or function is None:
            log.error("%s %s: only Lambda proxy integrations run locally", route.method, route.path)
            return _integration_failure(request_id)
        api_request = ApiRequest(
            method=request.method,
            path=unquote(path),
            headers=request.headers,
            query=query,
            body=request.body,
            source_ip=request.source_ip,
            protocol=request.protocol,
        )
        event = proxy_event(api_request, match, self.stage, caller, request_id, time.time())
        if len(request.body) > _MEASURE_FROM and (size := len(json.dumps(event).encode("utf-8"))) > INVOCATION_LIMIT:
            # On AWS the Invoke call fails (RequestEntityTooLargeException): the function never runs.
            log.error("%s not invoked: its event is %d bytes, over Lambda's %d-byte invocation payload limit",
                      function.config.name, size, INVOCATION_LIMIT)
            return _too_long(request_id)
        try:
            result = function.invoke(event)
        except Exception:
            log.exception("%s raised (request %s)", function.config.name, request_id)
            return _integration_failure(request_id)
        response = _proxy_response(result, request_id)
        if response is None:
            log.error("%s answered malformed for a proxy integration: %r", function.config.name, result)
            return _integration_failure(request_id)
        return response

