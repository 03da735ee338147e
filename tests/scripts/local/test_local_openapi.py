"""The OpenAPI document describes what the API really answers: both layers' bodies, status by
status, checked against a running `scripts.local` (API Gateway's stand-in over the real handler)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openapi_schema_validator import OAS30Validator

from tracking_templates.openapi import document
from tracking_templates.settings import settings_for

from .support import GOOD, Client
from .test_local_e2e import LocalApi, local_api  # noqa: F401 (the fixture: this module's own server)

pytestmark = pytest.mark.slow

DOCUMENT = document(settings_for("dev"))


def _schema_of(path: str, method: str, status: int) -> dict:
    """The JSON schema the document gives for this answer (its component refs resolved in it)."""
    answer = DOCUMENT["paths"][path][method.lower()]["responses"][str(status)]
    if "$ref" in answer:
        answer = DOCUMENT["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return {**answer["content"]["application/json"]["schema"], "components": DOCUMENT["components"]}


@pytest.fixture
def client(local_api: LocalApi) -> Iterator[Client]:  # noqa: F811 (the imported fixture)
    """A keep-alive connection to this module's server."""
    connection = Client(local_api.base_url)
    yield connection
    connection.close()


UPDATE = {"tracking_id": "OAS-1", "status": "delivered", "location": {"lat": 1.5, "lng": 2}, "metadata": {"k": "v"}}


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "signed", "status", "layer"),
    [
        ("POST", "/track", "", UPDATE, True, 200, "function"),
        ("GET", "/status", "?tracking_id=OAS-1&limit=1", None, True, 200, "function"),
        ("GET", "/shipments", "?status=delivered", None, True, 200, "function"),
        ("GET", "/status", "?tracking_id=OAS-1&limit=0", None, True, 400, "function"),
        ("GET", "/shipments", "?status=lost", None, True, 400, "function"),
        ("POST", "/track", "", {**UPDATE, "location": {"lat": 91, "lng": 0}}, True, 400, "gateway"),
        ("GET", "/status", "", None, True, 400, "gateway"),
        ("POST", "/track", "", UPDATE, False, 403, "gateway"),
        ("GET", "/shipments", "?status=failed", None, False, 403, "gateway"),
    ],
)
def test_each_answer_matches_the_documented_schema(
    client: Client, method: str, path: str, query: str, body: dict | None, signed: bool, status: int, layer: str
) -> None:
    # WHEN the running API is asked
    answer = client.call(method, path + query, body, credentials=GOOD if signed else None)
    # THEN the status is one the document lists for the route, and the body fits its schema
    assert answer.status == status, answer.json
    schema = _schema_of(path, method, status)
    errors = [error.message for error in OAS30Validator(schema).iter_errors(answer.json)]
    assert errors == [], answer.json
    # AND the layer that answered is the one expected: the function says {"error"}, API Gateway {"message"}
    if status != 200:
        assert set(answer.json) == ({"error"} if layer == "function" else {"message"})
