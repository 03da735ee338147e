"""The gateway pipeline on the real template's API, with a real handler file loaded by path."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from scripts.local.gateway.events import Caller, StageInfo
from scripts.local.gateway.functions import FunctionConfig, InProcessFunction
from scripts.local.gateway.gateway import Gateway, HttpRequest
from scripts.local.gateway.routes import rest_api_from_template
from scripts.local.gateway.sigv4 import Credentials

from .support import GOOD, isolated_environ, signed_headers
from .test_local_routes import real_template, resolver_for

HOST = "127.0.0.1:3000"
BASE = f"http://{HOST}/dev"
ECHO_HANDLER = '''
import json, os
CALLS = []

def main(event, context):
    CALLS.append((event, context))
    mode = (event.get("queryStringParameters") or {}).get("tracking_id")
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "malformed":
        return "not a proxy answer"
    return {
        "statusCode": 201,
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps({"seen": os.environ["LOCAL_TEST_VAR"], "remaining": context.get_remaining_time_in_millis()}),
    }
'''


@pytest.fixture(scope="module", autouse=True)
def _restore_environ() -> Iterator[None]:
    """The functions invoked here set Lambda variables in os.environ; other tests must not see them."""
    with isolated_environ():
        yield


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> InProcessFunction:
    """A handler.py that records its events, loaded the way scripts.local loads the real one."""
    folder = tmp_path_factory.mktemp("echo_function")
    (folder / "handler.py").write_text(ECHO_HANDLER, encoding="utf-8")
    config = FunctionConfig(
        logical_id="EchoForGatewayTests", name="echo-dev", arn="arn:aws:lambda:us-east-1:123456789012:function:echo-dev",
        handler="handler.main", source_dir=folder, environment={"LOCAL_TEST_VAR": "from-template"},
        memory_mb=256, timeout_s=7,
    )
    return InProcessFunction(config, "us-east-1")


@pytest.fixture
def gateway(echo: InProcessFunction) -> Gateway:
    """The real template's API served by the echo function."""
    api = rest_api_from_template(resolver_for(real_template()))
    stage = StageInfo("abc123", "123456789012", api.stage_name, None, HOST, {"/track": "res-track", "/status": "res-st"})
    caller = Caller(None, "123456789012", "arn:aws:sts::123456789012:user/moto", "AIDAUSER")
    functions = {route.function: echo for route in api.routes}
    echo._entry.__globals__["CALLS"].clear()
    return Gateway(api, stage, Credentials("testing", "testing"), "us-east-1", functions, caller)


def request(method: str, path: str, body: bytes = b"", signed: bool = True, extra: dict | None = None) -> HttpRequest:
    """A request as the HTTP server hands it over, optionally SigV4-signed."""
    headers = signed_headers(method, BASE + path, body, credentials=GOOD if signed else None)
    headers.update(extra or {})
    pairs = tuple(headers.items()) + (("Host", HOST), ("User-Agent", "pytest-agent"))
    return HttpRequest(method, "/dev" + path, pairs, body, "10.1.2.3")


def calls(echo: InProcessFunction) -> list:
    """The (event, context) pairs the echo handler received."""
    return echo._entry.__globals__["CALLS"]


VALID = json.dumps({"tracking_id": "PKG-1", "status": "pending", "location": {"lat": 1, "lng": 2}}).encode()


def test_proxy_event_and_context_are_what_lambda_gets(gateway: Gateway, echo: InProcessFunction) -> None:
    # GIVEN a signed GET with a repeated query parameter
    answer = gateway.handle(request("GET", "/status?tracking_id=PKG-1&tracking_id=PKG-2&limit=5"))
    # THEN the handler got a REST v1 proxy event
    (event, context), = calls(echo)
    assert answer.status == 201
    assert event["resource"] == "/status" and event["path"] == "/status" and event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"tracking_id": "PKG-2", "limit": "5"}
    assert event["multiValueQueryStringParameters"] == {"tracking_id": ["PKG-1", "PKG-2"], "limit": ["5"]}
    assert event["headers"]["Host"] == HOST and event["multiValueHeaders"]["User-Agent"] == ["pytest-agent"]
    assert event["pathParameters"] is None and event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["path"], ctx["resourcePath"], ctx["resourceId"]) == ("dev", "/dev/status", "/status", "res-st")
    assert (ctx["apiId"], ctx["accountId"], ctx["domainName"]) == ("abc123", "123456789012", HOST)
    assert ctx["requestId"] == dict(answer.headers)["x-amzn-RequestId"]
    assert ctx["identity"]["accessKey"] == "testing"
    assert ctx["identity"]["userArn"] == "arn:aws:sts::123456789012:user/moto"
    assert (ctx["identity"]["sourceIp"], ctx["identity"]["userAgent"]) == ("10.1.2.3", "pytest-agent")
    # AND a Lambda context with the deployed function's names and limits
    assert (context.function_name, context.memory_limit_in_mb) == ("echo-dev", 256)
    assert context.invoked_function_arn.endswith(":function:echo-dev")
    assert 0 < context.get_remaining_time_in_millis() <= 7000
    # AND the answer is the handler's, with the template's environment applied
    assert json.loads(answer.body)["seen"] == "from-template"
    assert os.environ["AWS_LAMBDA_FUNCTION_NAME"] == "echo-dev"
    assert [v for k, v in answer.headers if k == "X-Multi"] == ["a", "b"]
    assert ("Content-Type", "application/json") in answer.headers


def test_signed_valid_post_passes_body_through(gateway: Gateway, echo: InProcessFunction) -> None:
    # GIVEN a signed valid POST  # WHEN handled  # THEN the body reaches the handler as text
    assert gateway.handle(request("POST", "/track", VALID)).status == 201
    assert calls(echo)[0][0]["body"] == VALID.decode()


def test_authorization_comes_before_validation(gateway: Gateway, echo: InProcessFunction) -> None:
    # GIVEN an invalid body, unsigned  # WHEN handled  # THEN 403 (API Gateway authorizes first)
    unsigned = gateway.handle(request("POST", "/track", b"{}", signed=False))
    # AND signed, the validator answers 400; the handler never runs
    signed = gateway.handle(request("POST", "/track", b"{}"))
    assert (unsigned.status, json.loads(unsigned.body)) == (403, {"message": "Missing Authentication Token"})
    assert (signed.status, json.loads(signed.body)) == (400, {"message": "Invalid request body"})
    assert dict(signed.headers)["x-amzn-ErrorType"] == "BadRequestException"
    assert calls(echo) == []


def test_body_changed_after_signing_is_refused(gateway: Gateway) -> None:
    # GIVEN a request signed for one body but carrying another  # THEN signature mismatch
    original = request("POST", "/track", VALID)
    tampered = HttpRequest(original.method, original.raw_path, original.headers, VALID.replace(b"PKG-1", b"PKG-9"),
                           original.source_ip)
    answer = gateway.handle(tampered)
    assert answer.status == 403
    assert "does not match" in json.loads(answer.body)["message"]


@pytest.mark.parametrize("path", ["/prod/track", "/", "/devx/track"])
def test_other_stage_is_forbidden(gateway: Gateway, path: str) -> None:
    # GIVEN a path outside the deployed stage  # THEN API Gateway's 403 Forbidden
    answer = gateway.handle(HttpRequest("GET", path, (("Host", HOST),), b"", "10.1.2.3"))
    assert (answer.status, json.loads(answer.body)) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize("mode", ["raise", "malformed"])
def test_failing_or_malformed_function_is_502(gateway: Gateway, mode: str) -> None:
    # GIVEN a handler that raises or answers something that is not a proxy response
    answer = gateway.handle(request("GET", f"/status?tracking_id={mode}"))
    # THEN API Gateway's answer for a failed Lambda proxy integration, with no internals
    assert (answer.status, json.loads(answer.body)) == (502, {"message": "Internal server error"})


@pytest.mark.parametrize(
    "raw_path",
    ["//dev//status?tracking_id=PKG-1", "/dev///status/?tracking_id=PKG-1", "http://127.0.0.1:3000/dev//status?tracking_id=PKG-1"],
)
def test_repeated_slashes_are_collapsed_before_routing(gateway: Gateway, echo: InProcessFunction, raw_path: str) -> None:
    # GIVEN a request target with repeated slashes, signed as botocore signs it (its canonical path collapses them)
    origin_form = raw_path.removeprefix(f"http://{HOST}")
    headers = signed_headers("GET", f"http://{HOST}{origin_form}")
    # WHEN handled
    answer = gateway.handle(HttpRequest("GET", raw_path, tuple(headers.items()) + (("Host", HOST),), b"", "10.1.2.3"))
    # THEN it reaches the function as the route it names, with the collapsed path
    assert answer.status == 201, answer.body
    (event, _), = calls(echo)
    assert (event["resource"], event["path"], event["requestContext"]["path"]) == ("/status", "/status", "/dev/status")
    assert event["queryStringParameters"] == {"tracking_id": "PKG-1"}


def test_event_over_lambdas_invocation_limit_is_413_and_the_function_never_runs(gateway: Gateway,
                                                                                  echo: InProcessFunction) -> None:
    # GIVEN a valid body padded to 7 MB (API Gateway takes it: its limit is 10 MB; Lambda's is 6 MB)
    body = VALID + b" " * (7 * 1024 * 1024)
    # WHEN handled
    answer = gateway.handle(request("POST", "/track", body))
    # THEN API Gateway's 413, and the handler was not invoked
    assert (answer.status, json.loads(answer.body)) == (413, {"message": "Request Too Long"})
    assert calls(echo) == []


def test_body_just_under_lambdas_limit_reaches_the_model_check_and_the_handler(gateway: Gateway,
                                                                                 echo: InProcessFunction) -> None:
    # GIVEN valid bodies whose event stays under 6 MB, and an invalid one of the same size
    from scripts.local.gateway.gateway import INVOCATION_LIMIT

    padded = VALID + b" " * (INVOCATION_LIMIT - 64 * 1024)
    invalid = b"{}" + b" " * (INVOCATION_LIMIT - 64 * 1024)
    # WHEN handled  # THEN the valid one reaches the handler whole, the invalid one fails the model
    assert gateway.handle(request("POST", "/track", padded)).status == 201
    assert len(calls(echo)[0][0]["body"]) == len(padded)
    refused = gateway.handle(request("POST", "/track", invalid))
    assert (refused.status, json.loads(refused.body)) == (400, {"message": "Invalid request body"})


@pytest.mark.parametrize(
    "body",
    [
        # A UTF-8-encoded surrogate (ED A0 80): Python's json reads it as U+D800 and the event
        # used to carry U+FFFD, so two different ids became one shipment
        b'{"tracking_id": "PKG-\xed\xa0\x80", "status": "pending", "location": {"lat": 1, "lng": 2}}',
        b'{"tracking_id": "PKG-\xc0\xaf", "status": "pending", "location": {"lat": 1, "lng": 2}}',  # overlong "/"
        b'{"tracking_id": "PKG-\xe9", "status": "pending", "location": {"lat": 1, "lng": 2}}',  # Latin-1
        b'{"tracking_id": "PKG-\xf4\x90\x80\x80", "status": "pending", "location": {"lat": 1, "lng": 2}}',  # > U+10FFFF
        VALID.decode().encode("utf-16"),  # with its BOM
        VALID.decode().encode("utf-16-le"),  # without: json.loads(bytes) guessed it and passed the model
        VALID.decode().encode("utf-32"),
    ],
    ids=["surrogate", "overlong", "latin-1", "beyond-unicode", "utf-16", "utf-16-le", "utf-32"],
)
def test_a_body_that_is_not_utf8_is_400_and_never_reaches_the_function(
    gateway: Gateway, echo: InProcessFunction, body: bytes
) -> None:
    # GIVEN a signed POST whose body is not UTF-8  # WHEN handled
    answer = gateway.handle(request("POST", "/track", body))
    # THEN API Gateway's validator answer, and the function never runs: nothing stored, nothing rewritten
    assert (answer.status, json.loads(answer.body)) == (400, {"message": "Invalid request body"})
    assert dict(answer.headers)["x-amzn-ErrorType"] == "BadRequestException"
    assert calls(echo) == []


def test_valid_utf8_beyond_ascii_reaches_the_function_unchanged(gateway: Gateway, echo: InProcessFunction) -> None:
    body = json.dumps({"tracking_id": "PKG-é-\U0001f4e6", "status": "pending", "location": {"lat": 1, "lng": 2}},
                      ensure_ascii=False).encode("utf-8")  # fmt: skip
    assert gateway.handle(request("POST", "/track", body)).status == 201
    assert calls(echo)[0][0]["body"] == body.decode("utf-8")


def test_an_idempotency_key_header_reaches_the_function_as_sent(gateway: Gateway, echo: InProcessFunction) -> None:
    # GIVEN a signed POST with an Idempotency-Key (signed like any other header)  # WHEN handled
    answer = gateway.handle(request("POST", "/track", VALID, extra={"Idempotency-Key": "order-42-attempt"}))
    # THEN the model check passes it and the handler sees it, as API Gateway's proxy event carries it
    assert answer.status == 201
    (event, _), = calls(echo)
    assert event["headers"]["Idempotency-Key"] == "order-42-attempt"
    assert event["multiValueHeaders"]["Idempotency-Key"] == ["order-42-attempt"]


def test_a_route_without_a_body_model_refuses_a_non_utf8_body_too_after_its_parameters(
    gateway: Gateway, echo: InProcessFunction
) -> None:
    # GIVEN GET /status (no body model) carrying a body that is not UTF-8
    refused = gateway.handle(request("GET", "/status?tracking_id=PKG-1", b"\xff\xfe"))
    # THEN 400 all the same (the event could only carry it rewritten), but a missing parameter is said first
    missing = gateway.handle(request("GET", "/status", b"\xff\xfe"))
    assert (refused.status, json.loads(refused.body)) == (400, {"message": "Invalid request body"})
    assert json.loads(missing.body) == {"message": "Missing required request parameters: [tracking_id]"}
    assert calls(echo) == []
