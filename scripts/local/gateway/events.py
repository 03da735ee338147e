"""The Lambda side of a proxy integration: the REST (v1) proxy event and a Lambda context."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .routes import Match
from .sigv4 import header_value


@dataclass(frozen=True)
class Caller:
    """Who signed the request, as the proxy event's `requestContext.identity` shows it."""

    access_key: str | None
    account_id: str | None
    user_arn: str | None
    user_id: str | None


@dataclass(frozen=True)
class ApiRequest:
    """What the gateway received, after the stage prefix is stripped from the path."""

    method: str
    path: str  # without the stage, e.g. /track
    headers: Sequence[tuple[str, str]]
    query: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


def _last_and_all(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


@dataclass(frozen=True)
class StageInfo:
    """The API and stage a request arrived through (ids as the emulator assigned them)."""

    api_id: str
    account_id: str
    stage: str
    stage_variables: Mapping[str, str] | None
    domain_name: str
    resource_ids: Mapping[str, str]  # resource path -> physical resource id


def proxy_event(
    request: ApiRequest, match: Match, stage: StageInfo, caller: Caller | None, request_id: str, now: float
) -> dict[str, Any]:
    """The REST API proxy event (payload format 1.0) API Gateway would send for this request."""
    headers, multi_headers = _last_and_all(request.headers)
    query, multi_query = _last_and_all(request.query)
    user_agent = header_value(request.headers, "User-Agent")
    route = match.route
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": dict(stage.stage_variables) if stage.stage_variables else None,
        "requestContext": {
            "resourceId": stage.resource_ids.get(route.path, route.resource_id),
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request_id[:16],
            "requestTime": dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage.stage}{request.path}",
            "accountId": stage.account_id,
            "protocol": request.protocol,
            "stage": stage.stage,
            "domainPrefix": stage.domain_name.split(".", 1)[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": caller.account_id if caller else None,
                "cognitoIdentityId": None,
                "caller": caller.user_id if caller else None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": caller.access_key if caller else None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": caller.user_arn if caller else None,
                "userAgent": user_agent,
                "user": caller.user_id if caller else None,
            },
            "domainName": stage.domain_name,
            "apiId": stage.api_id,
        },
        # Strict: the gateway refused a body that is not UTF-8 (400); nothing is ever rewritten.
        "body": request.body.decode("utf-8") if request.body else None,
        "isBase64Encoded": False,
    }


@dataclass
class LambdaContext:
    """The context object a Python Lambda handler receives (same attribute names)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def log_group_name(self) -> str:
        """The function's log group, as Lambda names it."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        return time.strftime("%Y/%m/%d") + f"/[{self.function_version}]local"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
