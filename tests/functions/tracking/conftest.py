"""Fixtures for the tracking API: the handler loaded by path, a Lambda context, moto resources from the template."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest

from ..lambda_runtime import FakeLambdaContext
from ..lambda_runtime import load_handler as load_function_handler
from .stack import create_tables, definitions

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTION_DIR = REPO_ROOT / "functions" / "tracking"
EVENTS_DIR = Path(__file__).resolve().parent / "events"
if str(FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTION_DIR))  # as in the zip: `import tracking_api`

from tracking_api import aws, flags  # noqa: E402


def load_handler(module_name: str) -> ModuleType:
    """functions/tracking/handler.py under a unique module name (the notifier has a handler.py too)."""
    return load_function_handler("tracking", module_name)


@pytest.fixture(scope="session")
def handler() -> ModuleType:
    """The handler module, imported with the template's environment set (as Lambda does)."""
    saved = dict(os.environ)
    os.environ.update(definitions().function_env)
    try:
        return load_handler("tracking_api_handler_under_test")
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    """A fresh fake Lambda context."""
    return FakeLambdaContext()


def load_event(name: str) -> dict[str, Any]:
    """A copy of a stored API Gateway REST proxy event (tests/functions/tracking/events/NAME.json)."""
    return copy.deepcopy(json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8")))


def post_event(body: Any, *, raw: bool = False, request_id: str | None = None) -> dict[str, Any]:
    """The stored POST /track event with another body (JSON-encoded unless raw)."""
    event = load_event("post_track")
    event["body"] = body if raw else json.dumps(body)
    if request_id:
        event["requestContext"]["requestId"] = request_id
    return event


def get_event(params: dict[str, str] | None) -> dict[str, Any]:
    """The stored GET /status event with other query parameters (None: no query string)."""
    event = load_event("get_status")
    event["queryStringParameters"] = params
    event["multiValueQueryStringParameters"] = None if params is None else {k: [v] for k, v in params.items()}
    event["requestContext"]["path"] = "/test/status" + ("?" + urlencode(params) if params else "")
    return event


def answer(response: dict[str, Any]) -> tuple[int, Any]:
    """(status code, parsed JSON body) of a handler response; checks it is JSON."""
    headers = response.get("multiValueHeaders") or {}
    assert headers.get("Content-Type") == ["application/json"], headers
    return response["statusCode"], json.loads(response["body"])


@dataclass
class Stack:
    """The moto resources the handler runs against."""

    dynamodb: Any
    ssm: Any
    table_name: str
    env: dict[str, str] = field(default_factory=dict)

    def items(self) -> list[dict[str, Any]]:
        """Every item in the table (low-level form), past Scan's 1 MB pages."""
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table_name, ConsistentRead=True)
        return [item for page in pages for item in page["Items"]]


def reset_caches() -> None:
    """Forget clients, cached parameters and remembered failures between tests."""
    aws.reset()
    flags.reset()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """In-process moto with the template's table and parameters, and the function's environment set."""
    import boto3
    from moto import mock_aws

    defs = definitions()
    for name, value in defs.function_env.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, defs)
        ssm = boto3.client("ssm")
        for name, value in defs.parameters.items():
            ssm.put_parameter(Name=name, Value=value, Type="String")
        yield Stack(dynamodb, ssm, defs.function_env["TABLE_NAME"], dict(defs.function_env))
    reset_caches()


@pytest.fixture
def log_lines(handler: ModuleType) -> Iterator[io.StringIO]:
    """Everything the function's powertools Logger writes during the test, one JSON object a line."""
    logger = handler.logger
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.service)
    std_logger.addHandler(capture)
    try:
        yield stream
    finally:
        std_logger.removeHandler(capture)


def parse_logs(stream: io.StringIO) -> list[dict[str, Any]]:
    """The captured log records."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def pytest_configure(config: pytest.Config) -> None:
    # powertools warns on every invocation that adds no metric (a 400 or 404): expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
