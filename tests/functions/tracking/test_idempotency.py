"""POST /track with an Idempotency-Key, through handler.main against moto (tables from the template)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tracking_api import idempotency, storage
from tracking_api.errors import StorageError
from tracking_api.idempotency_contract import EXPIRY_ATTRIBUTE, HEADER, MAX_KEY_CHARS, WINDOW_S

from .conftest import answer, post_event
from .stack import IDEMPOTENCY_TABLE_NAME

VALID = {"tracking_id": "TRK-7", "status": "in_transit", "location": {"lat": 1.5, "lng": -2}, "metadata": {"a": 1}}
KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def keyed_event(body: Any, *keys: str, raw: bool = False) -> dict[str, Any]:
    """The stored POST /track event with another body and these Idempotency-Key values."""
    event = post_event(body, raw=raw)
    if keys:
        event["headers"][HEADER] = keys[-1]  # API Gateway's single-value map keeps the last
        event["multiValueHeaders"][HEADER] = list(keys)
    return event


def post(handler: Any, ctx: Any, body: Any, *keys: str, raw: bool = False) -> tuple[int, Any]:
    return answer(handler.main(keyed_event(body, *keys, raw=raw), ctx))


@pytest.fixture
def dynamodb_calls(monkeypatch) -> Iterator[list[tuple[str, str]]]:
    """Every DynamoDB operation any botocore client sends, with its table: (operation, table)."""
    from botocore.endpoint import Endpoint

    calls: list[tuple[str, str]] = []
    original = Endpoint.make_request

    def make_request(self, operation_model, request_dict):
        if operation_model.service_model.service_name == "dynamodb":
            calls.append((operation_model.name, json.loads(request_dict["body"] or b"{}").get("TableName", "")))
        return original(self, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", make_request)
    yield calls


def records(stack) -> list[dict[str, Any]]:
    return stack.dynamodb.scan(TableName=IDEMPOTENCY_TABLE_NAME, ConsistentRead=True)["Items"]


def test_a_repeat_returns_the_first_answer_and_stores_nothing(handler, lambda_context, stack, dynamodb_calls):
    # GIVEN an update stored with a key
    first_status, first = post(handler, lambda_context, VALID, KEY)
    assert first_status == 200
    dynamodb_calls.clear()
    # WHEN the client retries it with the same key (its body spelled otherwise: key order, spacing)
    spelled = '{"metadata": {"a": 1.0}, "location": {"lng": -2, "lat": 1.50}, "status": "in_transit", "tracking_id": "TRK-7"}'
    again_status, again = post(handler, lambda_context, spelled, KEY, raw=True)
    # THEN the answer is the first one, timestamp included
    assert (again_status, again) == (200, first)
    # AND nothing was written to the tracking table: one stored update, one record
    assert [table for _, table in dynamodb_calls] == [IDEMPOTENCY_TABLE_NAME]
    (item,) = stack.items()
    assert item["timestamp"] == {"N": str(first["timestamp"])}
    assert len(records(stack)) == 1


def test_the_record_holds_the_answer_for_24_hours(handler, lambda_context, stack):
    # GIVEN / WHEN an update is stored with a key
    before = int(time.time())
    status_code, body = post(handler, lambda_context, VALID, KEY)
    after = int(time.time())
    # THEN its record is complete, keeps the answer, and expires 24 h later (the table's TTL attribute)
    assert status_code == 200
    (record,) = records(stack)
    assert record["id"]["S"].startswith("POST /track#")
    assert KEY not in record["id"]["S"]  # the key is hashed: the table holds no client data
    assert record["status"] == {"S": "COMPLETED"}
    assert json.loads(record["data"]["S"]) == body
    assert WINDOW_S == 86_400
    assert before + WINDOW_S <= int(record[EXPIRY_ATTRIBUTE]["N"]) <= after + WINDOW_S
    ttl = stack.dynamodb.describe_time_to_live(TableName=IDEMPOTENCY_TABLE_NAME)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": EXPIRY_ATTRIBUTE}


def test_the_same_key_with_another_body_is_422(handler, lambda_context, stack):
    # GIVEN an update stored with a key
    assert post(handler, lambda_context, VALID, KEY)[0] == 200
    # WHEN the same key comes with another update (one field differs)
    status_code, body = post(handler, lambda_context, {**VALID, "status": "delivered"}, KEY)
    # THEN 422 with the reason, and nothing more stored
    assert (status_code, body) == (422, {"error": "Idempotency-Key was already used with another request body"})
    assert len(stack.items()) == 1


def test_other_keys_and_no_key_store_each_request(handler, lambda_context, stack):
    # GIVEN / WHEN the same update is sent with two keys, then twice without one
    stamps = [post(handler, lambda_context, VALID, *keys)[1]["timestamp"] for keys in ([KEY], ["other"], [], [])]
    # THEN four updates are stored (a key only ever stands for its own request)
    assert len(stack.items()) == 4 and len(set(stamps)) == 4
    assert len(records(stack)) == 2


def test_a_post_without_the_key_is_one_write_and_makes_no_idempotency_client(
    handler, lambda_context, stack, dynamodb_calls
):
    from tracking_api import aws

    # GIVEN / WHEN an update is stored without a key
    assert post(handler, lambda_context, VALID)[0] == 200
    # THEN exactly one DynamoDB call: the tracking table's PutItem
    assert dynamodb_calls == [("PutItem", stack.table_name)]
    # AND the idempotency layer's client was never made
    assert not [key for key in aws._cache if key[0] in ("full-model-client", "idempotency")]


def test_a_keyed_post_claims_stores_and_completes(handler, lambda_context, stack, dynamodb_calls):
    # GIVEN / WHEN an update is stored with a key
    assert post(handler, lambda_context, VALID, KEY)[0] == 200
    # THEN the key is claimed, the update stored once, the answer saved
    assert dynamodb_calls == [
        ("PutItem", IDEMPOTENCY_TABLE_NAME),
        ("PutItem", stack.table_name),
        ("UpdateItem", IDEMPOTENCY_TABLE_NAME),
    ]


def test_a_failed_store_frees_the_key_for_the_retry(handler, lambda_context, stack, monkeypatch):
    # GIVEN a table that fails the first write
    original = storage.TrackingStore.put_update
    failures = iter([True])

    def flaky(self, update):
        if next(failures, False):
            raise StorageError("PutItem failed")
        return original(self, update)

    monkeypatch.setattr(storage.TrackingStore, "put_update", flaky)
    # WHEN a keyed update fails, then is retried with the same key
    assert post(handler, lambda_context, VALID, KEY) == (500, {"error": "Internal server error"})
    assert records(stack) == []
    status_code, body = post(handler, lambda_context, VALID, KEY)
    # THEN the retry stores it, once
    assert status_code == 200
    (item,) = stack.items()
    assert item["timestamp"] == {"N": str(body["timestamp"])}


def test_a_repeat_while_the_first_is_running_is_409(handler, lambda_context, stack, monkeypatch):
    # GIVEN a first request held inside its write
    original = storage.TrackingStore.put_update
    inside, release = threading.Event(), threading.Event()

    def held(self, update):
        inside.set()
        assert release.wait(10)
        return original(self, update)

    monkeypatch.setattr(storage.TrackingStore, "put_update", held)
    results: list[tuple[int, Any]] = []
    first = threading.Thread(target=lambda: results.append(post(handler, lambda_context, VALID, KEY)))
    first.start()
    assert inside.wait(10)
    # WHEN the same request arrives meanwhile
    try:
        status_code, body = post(handler, lambda_context, VALID, KEY)
    finally:
        release.set()
        first.join(10)
    # THEN it is told to retry later, and the first completes alone
    assert (status_code, body) == (409, {"error": "A request with this Idempotency-Key is still in progress; retry later"})
    ((first_status, first_body),) = results
    assert first_status == 200 and len(stack.items()) == 1
    # AND a retry after that gets the first answer
    assert post(handler, lambda_context, VALID, KEY) == (200, first_body)


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ([""], f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        (["x" * (MAX_KEY_CHARS + 1)], f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        (["clé"], f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        ([" padded"], f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        (["tab\there"], f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        (["a", "b"], "Idempotency-Key must be sent once"),
    ],
)
def test_a_malformed_key_is_400_and_stores_nothing(handler, lambda_context, stack, keys, reason):
    # GIVEN / WHEN a valid update comes with a malformed key / THEN 400 with the reason, nothing stored
    assert post(handler, lambda_context, VALID, *keys) == (400, {"error": reason})
    assert stack.items() == [] and records(stack) == []


def test_the_longest_key_and_any_header_case_are_accepted(handler, lambda_context, stack):
    # GIVEN a key of exactly the maximum length, sent in lower case (HTTP header names are case-insensitive)
    event = post_event(VALID)
    event["headers"][HEADER.lower()] = "k" * MAX_KEY_CHARS
    event["multiValueHeaders"][HEADER.lower()] = ["k" * MAX_KEY_CHARS]
    # WHEN it is posted twice / THEN one update is stored and both answers are the same
    first, second = (answer(handler.main(event, lambda_context)) for _ in range(2))
    assert first[0] == 200 and first == second
    assert len(stack.items()) == 1


def test_the_fingerprint_is_the_update_not_its_spelling():
    # GIVEN the same update written two ways, and one that differs in a nested number
    from tracking_api.validation import parse_tracking_update

    a = parse_tracking_update('{"tracking_id":"T","status":"pending","location":{"lat":1,"lng":2},"metadata":{"x":[1,{"b":2,"a":1}]}}')
    b = parse_tracking_update('{"metadata":{"x":[1.0,{"a":1,"b":2.00}]},"location":{"lng":2.0,"lat":1},"status":"pending","tracking_id":"T"}')
    c = parse_tracking_update('{"tracking_id":"T","status":"pending","location":{"lat":1,"lng":2},"metadata":{"x":[1,{"b":2,"a":1.5}]}}')
    # WHEN fingerprinted / THEN equal updates agree, a different one does not
    assert idempotency.fingerprint(a) == idempotency.fingerprint(b)
    assert idempotency.fingerprint(a) == (
        '{"location":{"lat":1,"lng":2},"metadata":{"x":[1,{"a":1,"b":2}]},"status":"pending","tracking_id":"T"}'
    )
    assert idempotency.fingerprint(c) != idempotency.fingerprint(a)
