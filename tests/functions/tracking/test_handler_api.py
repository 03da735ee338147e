"""handler.main with real API Gateway REST proxy events against moto (table and parameters from the template)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from .conftest import answer, get_event, load_event, parse_logs, post_event

VALID = {"tracking_id": "TRK-1", "status": "pending", "location": {"lat": 1, "lng": 2}}


def post(handler: Any, ctx: Any, body: Any, **kwargs: Any) -> tuple[int, Any]:
    return answer(handler.main(post_event(body, **kwargs), ctx))


def get(handler: Any, ctx: Any, params: dict[str, str] | None) -> tuple[int, Any]:
    return answer(handler.main(get_event(params), ctx))


def test_post_stores_the_update_exactly(handler, lambda_context, stack):
    # GIVEN the stored POST /track event (floats and integers in location and metadata)
    event = load_event("post_track")

    # WHEN the handler serves it
    status_code, body = answer(handler.main(event, lambda_context))

    # THEN it answers 200 with an integer epoch-ms timestamp, and the item holds the exact numbers
    assert status_code == 200
    assert body["tracking_id"] == "TRK-0001" and body["message"]
    assert type(body["timestamp"]) is int and body["timestamp"] > 1_600_000_000_000
    (item,) = stack.items()
    assert item["tracking_id"] == {"S": "TRK-0001"}
    assert item["timestamp"] == {"N": str(body["timestamp"])}
    assert item["location"] == {"M": {"lat": {"N": "40.7128"}, "lng": {"N": "-74.006"}}}
    assert item["metadata"]["M"]["weight_kg"] == {"N": "12.5"}
    assert item["environment"] == {"S": stack.env["ENVIRONMENT"]}


def test_get_returns_plain_numbers_newest_first(handler, lambda_context, stack):
    # GIVEN two updates of one shipment, with a float and an integer coordinate
    for status in ("pending", "in_transit"):
        post(handler, lambda_context, {**VALID, "status": status, "location": {"lat": 40.7128, "lng": -74}})

    # WHEN its status is read
    status_code, body = get(handler, lambda_context, {"tracking_id": "TRK-1"})

    # THEN both come back newest first, numbers as JSON numbers (integers stay integers)
    assert status_code == 200
    assert body["tracking_id"] == "TRK-1" and body["count"] == 2 and "next_key" not in body
    assert [u["status"] for u in body["updates"]] == ["in_transit", "pending"]
    first = body["updates"][0]
    assert first["location"] == {"lat": 40.7128, "lng": -74}
    assert type(first["location"]["lng"]) is int and type(first["timestamp"]) is int


def test_get_reads_an_event_that_has_only_multi_value_query_parameters(handler, lambda_context, stack):
    # GIVEN two updates of one shipment, and a GET event whose single-value map is null
    for status in ("pending", "in_transit"):
        post(handler, lambda_context, {**VALID, "status": status})
    event = get_event(None)
    event["multiValueQueryStringParameters"] = {"tracking_id": ["OTHER", "TRK-1"], "limit": ["1"]}

    # WHEN the handler serves it
    status_code, body = answer(handler.main(event, lambda_context))

    # THEN the parameters are read from the multi-value map (the last value, as API Gateway's map)
    assert status_code == 200
    assert body["tracking_id"] == "TRK-1" and body["count"] == 1 and "next_key" in body
    assert body["updates"][0]["status"] == "in_transit"


@pytest.mark.parametrize("limit", [5, ["5"], 5.0, True])
def test_get_with_a_non_string_limit_is_a_400(handler, lambda_context, stack, limit):
    # GIVEN a hand-made event whose limit is not text / WHEN served
    event = get_event({"tracking_id": "TRK-1"})
    event["queryStringParameters"]["limit"] = limit
    status_code, body = answer(handler.main(event, lambda_context))
    # THEN a 400 naming limit, not a 500
    assert (status_code, body) == (400, {"error": "limit must be an integer from 1 to 100"})


def test_get_returns_every_digit_that_was_stored(handler, lambda_context, stack):
    # GIVEN an update whose numbers have more digits than a float holds
    body = ('{"tracking_id": "TRK-1", "status": "pending", "location": {"lat": 89.99999999999999999999999999999,'
            ' "lng": 2}, "metadata": {"weight": 0.12345678901234567890123}}')
    assert post(handler, lambda_context, body, raw=True)[0] == 200

    # WHEN it is read back
    response = handler.main(get_event({"tracking_id": "TRK-1"}), lambda_context)

    # THEN the answer's JSON holds exactly those digits (not 90.0 and 0.12345678901234568)
    text = response["body"]
    assert '"lat":89.99999999999999999999999999999' in text and '"weight":0.12345678901234567890123' in text
    update = json.loads(text, parse_float=Decimal)["updates"][0]
    assert update["location"]["lat"] == Decimal("89.99999999999999999999999999999")


def test_get_unknown_id_is_200_with_no_updates(handler, lambda_context, stack):
    # GIVEN an empty table / WHEN an unknown id is read
    status_code, body = get(handler, lambda_context, {"tracking_id": "nobody"})
    # THEN
    assert (status_code, body) == (200, {"tracking_id": "nobody", "updates": [], "count": 0})


def test_pagination_walks_every_update_once(handler, lambda_context, stack, monkeypatch):
    # GIVEN five updates of one shipment (distinct milliseconds) and one of another
    from tracking_api import clock

    times = iter(range(1_700_000_000_000, 1_700_000_000_006))
    monkeypatch.setattr(clock, "now_ms", lambda: next(times))
    for n in range(5):
        post(handler, lambda_context, {**VALID, "metadata": {"n": n}})
    post(handler, lambda_context, {**VALID, "tracking_id": "OTHER"})

    # WHEN pages of two are followed through next_key
    seen, params = [], {"tracking_id": "TRK-1", "limit": "2"}
    for _ in range(5):
        status_code, body = get(handler, lambda_context, params)
        assert status_code == 200
        seen += [u["metadata"]["n"] for u in body["updates"]]
        if "next_key" not in body:
            break
        params = {**params, "last_key": body["next_key"]}

    # THEN every update of that shipment is seen once, newest first, and nothing else
    assert seen == [4, 3, 2, 1, 0]


def test_foreign_page_token_is_refused(handler, lambda_context, stack):
    # GIVEN a real next_key issued for shipment A
    for _ in range(2):
        post(handler, lambda_context, {**VALID, "tracking_id": "A"})
    post(handler, lambda_context, {**VALID, "tracking_id": "B"})
    _, page = get(handler, lambda_context, {"tracking_id": "A", "limit": "1"})
    token = page["next_key"]

    # WHEN it is sent back with shipment B
    status_code, body = get(handler, lambda_context, {"tracking_id": "B", "last_key": token})

    # THEN 400, and nothing of A (or B) is read
    assert status_code == 400 and "another tracking_id" in body["error"]


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "eyJ0cmFja2luZ19pZCI6IkEifQ",  # {"tracking_id":"A"}
        "WyJBIiwxXQ==",  # ["A",1] with padding
        "WyJBIiwgMV0",  # ["A", 1] non-canonical spacing
        "WyJBIiwxLjBd",  # ["A",1.0]
        "WyJBIix0cnVlXQ",  # ["A",true]
        "WyJBIiwtMV0",  # ["A",-1]
        "WyJcdWQ4MDAiLDFd",  # ["\ud800",1]
        "//8",  # not UTF-8
        "A" * 2000,
        "",
    ],
)
def test_malformed_page_token_is_400(handler, lambda_context, stack, token):
    # GIVEN a shipment with updates / WHEN a forged or malformed token is sent
    post(handler, lambda_context, {**VALID, "tracking_id": "A"})
    status_code, body = get(handler, lambda_context, {"tracking_id": "A", "last_key": token})
    # THEN 400 with a reason
    assert status_code == 400 and "last_key" in body["error"]


def test_a_consistent_forged_token_only_reads_its_own_shipment(handler, lambda_context, stack):
    # GIVEN a well-formed token that a client made up for its own shipment
    from tracking_api import pagination

    post(handler, lambda_context, {**VALID, "tracking_id": "A"})
    token = pagination.encode("A", 2**53 - 1)
    # WHEN it is used / THEN it can only start a page inside that shipment
    status_code, body = get(handler, lambda_context, {"tracking_id": "A", "last_key": token})
    assert status_code == 200 and all(u["tracking_id"] == "A" for u in body["updates"])


MALFORMED_BODIES = {
    "not json": "not json",
    "truncated": '{"tracking_id": "A"',
    "array": "[1, 2]",
    "string": '"hello"',
    "null": "null",
    "empty object": "{}",
    "lat is true": json.dumps({**VALID, "location": {"lat": True, "lng": 0}}),
    "lng is a string": json.dumps({**VALID, "location": {"lat": 0, "lng": "0"}}),
    "lat NaN": '{"tracking_id": "A", "status": "pending", "location": {"lat": NaN, "lng": 0}}',
    "lng Infinity": '{"tracking_id": "A", "status": "pending", "location": {"lat": 0, "lng": Infinity}}',
    "lng -Infinity": '{"tracking_id": "A", "status": "pending", "location": {"lat": 0, "lng": -Infinity}}',
    "lat 90.0001": json.dumps({**VALID, "location": {"lat": 90.0001, "lng": 0}}),
    "lng -181": json.dumps({**VALID, "location": {"lat": 0, "lng": -181}}),
    "lat too precise for DynamoDB": '{"tracking_id":"A","status":"pending","location":{"lat":1.000000000000000000000000000000000000001,"lng":0}}',
    "lat underflows DynamoDB": '{"tracking_id":"A","status":"pending","location":{"lat":1e-200,"lng":0}}',
    "location missing": json.dumps({"tracking_id": "A", "status": "pending"}),
    "location not object": json.dumps({**VALID, "location": [1, 2]}),
    "lng missing": json.dumps({**VALID, "location": {"lat": 0}}),
    "extra location field": json.dumps({**VALID, "location": {"lat": 0, "lng": 0, "alt": 1}}),
    "tracking_id missing": json.dumps({"status": "pending", "location": {"lat": 0, "lng": 0}}),
    "tracking_id empty": json.dumps({**VALID, "tracking_id": ""}),
    "tracking_id 101 chars": json.dumps({**VALID, "tracking_id": "x" * 101}),
    # A blank id could never be read back: API Gateway refuses a blank required query parameter.
    "tracking_id blank": json.dumps({**VALID, "tracking_id": " \t "}),
    "tracking_id number": json.dumps({**VALID, "tracking_id": 12}),
    "tracking_id lone surrogate": '{"tracking_id": "\\ud800", "status": "pending", "location": {"lat": 0, "lng": 0}}',
    "unknown status": json.dumps({**VALID, "status": "lost"}),
    "status null": json.dumps({**VALID, "status": None}),
    "metadata list": json.dumps({**VALID, "metadata": [1]}),
    "metadata string": json.dumps({**VALID, "metadata": "x"}),
    "metadata huge number": '{"tracking_id":"A","status":"pending","location":{"lat":0,"lng":0},"metadata":{"n":1e400}}',
    "metadata NaN": '{"tracking_id":"A","status":"pending","location":{"lat":0,"lng":0},"metadata":{"n":NaN}}',
    "metadata empty key": json.dumps({**VALID, "metadata": {"": 1}}),
    "metadata too deep": json.dumps({**VALID, "metadata": json.loads("[" * 40 + "]" * 40 and '{"a":' * 40 + "1" + "}" * 40)}),
    "nesting bomb": "[" * 100_000 + "]" * 100_000,
    "unknown field": json.dumps({**VALID, "extra": 1}),
    "duplicate key": '{"tracking_id": "A", "tracking_id": "B", "status": "pending", "location": {"lat": 0, "lng": 0}}',
    "empty body": "",
    "whitespace body": "   ",
    "too large": json.dumps({**VALID, "metadata": {"blob": "x" * 70_000}}),
    "huge integer": '{"tracking_id":"A","status":"pending","location":{"lat":0,"lng":0},"metadata":{"n":' + "9" * 5000 + "}}",
}


@pytest.mark.parametrize("raw", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_body_is_400_and_nothing_is_stored(handler, lambda_context, stack, raw):
    # GIVEN a malformed body / WHEN it is POSTed
    status_code, body = post(handler, lambda_context, raw, raw=True)
    # THEN 400 with a reason, and the table is still empty
    assert status_code == 400, body
    assert isinstance(body["error"], str) and body["error"]
    assert stack.items() == []


def test_missing_body_is_400(handler, lambda_context, stack):
    # GIVEN a POST with no body at all / WHEN served / THEN 400 and nothing stored
    event = post_event(None, raw=True)
    assert answer(handler.main(event, lambda_context)) == (400, {"error": "Request body is required"})
    assert stack.items() == []


def test_error_names_the_field(handler, lambda_context, stack):
    # GIVEN a latitude out of range / WHEN posted / THEN the message names the field and the rule
    _, body = post(handler, lambda_context, {**VALID, "location": {"lat": 91, "lng": 0}})
    assert body == {"error": "location.lat must be smaller than or equal to 90"}
    _, body = post(handler, lambda_context, {**VALID, "location": {"lat": True, "lng": 0}})
    assert body == {"error": "location.lat must be number"}


def test_base64_body_is_decoded(handler, lambda_context, stack):
    # GIVEN a body API Gateway passed base64-encoded (binary media type)
    import base64

    event = post_event(base64.b64encode(json.dumps(VALID).encode()).decode(), raw=True)
    event["isBase64Encoded"] = True
    # WHEN / THEN it is stored like any other
    assert answer(handler.main(event, lambda_context))[0] == 200
    bad = post_event("***", raw=True)
    bad["isBase64Encoded"] = True
    assert answer(handler.main(bad, lambda_context))[0] == 400
    assert len(stack.items()) == 1


@pytest.mark.parametrize(
    "params",
    [
        None,
        {},
        {"limit": "5"},
        {"tracking_id": ""},
        {"tracking_id": "x" * 101},
        {"tracking_id": "   "},
        {"tracking_id": "A", "limit": "0"},
        {"tracking_id": "A", "limit": "101"},
        {"tracking_id": "A", "limit": "-1"},
        {"tracking_id": "A", "limit": "1.5"},
        {"tracking_id": "A", "limit": "ten"},
        {"tracking_id": "A", "limit": ""},
        {"tracking_id": "A", "limit": " 5"},
        {"tracking_id": "A", "limit": "1e1"},
    ],
)
def test_bad_status_query_is_400(handler, lambda_context, stack, params):
    # GIVEN a malformed query / WHEN GET /status / THEN 400 with a reason
    status_code, body = get(handler, lambda_context, params)
    assert status_code == 400 and body["error"]


@pytest.mark.parametrize("limit", ["1", "100", "010"])
def test_limit_bounds_are_accepted(handler, lambda_context, stack, limit):
    # GIVEN / WHEN a limit inside 1..100 / THEN 200
    assert get(handler, lambda_context, {"tracking_id": "A", "limit": limit})[0] == 200


def test_unknown_route_is_404(handler, lambda_context, stack):
    # GIVEN the stored event for a route the API does not have / WHEN served / THEN 404
    assert answer(handler.main(load_event("unknown_route"), lambda_context)) == (404, {"error": "Not found"})
    wrong_method = load_event("post_track")
    wrong_method["httpMethod"] = "DELETE"
    assert answer(handler.main(wrong_method, lambda_context))[0] == 404


def test_table_failure_is_a_bare_500_with_details_in_the_log(handler, lambda_context, stack, log_lines):
    # GIVEN the table is gone
    stack.dynamodb.delete_table(TableName=stack.table_name)

    # WHEN an update is posted and a status read
    responses = [
        handler.main(post_event(VALID, request_id="req-post-500"), lambda_context),
        handler.main(get_event({"tracking_id": "A"}), lambda_context),
    ]

    # THEN both answer exactly the generic 500, with nothing internal in the body
    for response in responses:
        assert answer(response) == (500, {"error": "Internal server error"})
        assert stack.table_name not in response["body"] and "Traceback" not in response["body"]
    # AND the log has the detail under the request's correlation id
    errors = [r for r in parse_logs(log_lines) if r["level"] == "ERROR"]
    post_error = next(r for r in errors if r.get("correlation_id") == "req-post-500")
    assert "ResourceNotFoundException" in post_error["exception"]


def test_failures_and_successes_are_counted_as_metrics(handler, lambda_context, stack, capsys):
    # GIVEN a stored update and a read, then a missing table
    post(handler, lambda_context, VALID)
    get(handler, lambda_context, {"tracking_id": "TRK-1"})
    stack.dynamodb.delete_table(TableName=stack.table_name)
    post(handler, lambda_context, VALID)
    get(handler, lambda_context, {"tracking_id": "TRK-1"})

    # WHEN the EMF lines printed by the invocations are read
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = [m["Name"] for blob in printed for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]

    # THEN each outcome has its metric
    assert names == [
        "TrackingUpdateStored",
        "StatusQuerySuccess",
        "TrackingUpdateFailed",
        "UnhandledException",
        "StatusQueryFailed",
        "UnhandledException",
    ]


def test_no_body_or_header_is_logged(handler, lambda_context, stack, log_lines):
    # GIVEN requests carrying recognisable body values and a signed Authorization header
    event = post_event({**VALID, "metadata": {"secret": "body-canary-123"}})
    rejected = post_event({**VALID, "status": "lost", "metadata": {"secret": "body-canary-456"}})

    # WHEN they are served
    handler.main(event, lambda_context)
    handler.main(rejected, lambda_context)

    # THEN no log record (at any level) carries the body values or the headers
    text = log_lines.getvalue()
    assert text, "the handler logs something"
    for canary in ("body-canary-123", "body-canary-456", "AWS4-HMAC-SHA256", "python-requests"):
        assert canary not in text
    infos = [r for r in parse_logs(log_lines) if r["level"] == "INFO"]
    assert infos and all("body" not in r and "headers" not in r for r in infos)
    assert all(r["correlation_id"] == event["requestContext"]["requestId"] for r in infos)


def test_a_stored_update_logs_the_timestamp_it_was_stored_under(handler, lambda_context, stack, log_lines):
    # GIVEN / WHEN an update is stored
    status_code, body = post(handler, lambda_context, VALID)
    assert status_code == 200
    # THEN its INFO line carries the stored key: tracking_id and the answer's timestamp (epoch ms),
    # not only the log time powertools writes under "timestamp"
    (stored,) = [r for r in parse_logs(log_lines) if r["message"] == "Tracking update stored"]
    assert stored["tracking_id"] == "TRK-1"
    assert stored["update_timestamp"] == body["timestamp"] and type(stored["update_timestamp"]) is int


def test_stored_numbers_round_trip_exactly(handler, lambda_context, stack):
    # GIVEN numbers a float would change (38 significant digits)
    lat = "12.345678901234567890123456789012345678"
    raw = '{"tracking_id":"P","status":"delivered","location":{"lat":' + lat + ',"lng":0},"metadata":{"big":12345678901234567890123}}'
    # WHEN posted
    assert post(handler, lambda_context, raw, raw=True)[0] == 200
    # THEN DynamoDB holds every digit, and the integer comes back as the same integer
    (item,) = stack.items()
    assert Decimal(item["location"]["M"]["lat"]["N"]) == Decimal(lat)
    _, body = get(handler, lambda_context, {"tracking_id": "P"})
    assert body["updates"][0]["metadata"]["big"] == 12345678901234567890123


def test_same_millisecond_posts_are_all_kept(handler, lambda_context, stack, monkeypatch):
    # GIVEN a frozen clock
    from tracking_api import clock

    monkeypatch.setattr(clock, "now_ms", lambda: 1_700_000_000_000)

    # WHEN ten updates of one shipment are posted in that millisecond
    stamps = [post(handler, lambda_context, {**VALID, "metadata": {"n": n}})[1]["timestamp"] for n in range(10)]

    # THEN each answered its own timestamp and all ten are readable
    assert len(set(stamps)) == 10
    _, body = get(handler, lambda_context, {"tracking_id": "TRK-1", "limit": "100"})
    assert sorted(u["metadata"]["n"] for u in body["updates"]) == list(range(10))


def test_aws_calls_per_request(handler, lambda_context, stack):
    # GIVEN the clients the handler uses, with their API calls counted
    from tracking_api import aws

    calls: list[str] = []
    for service in ("dynamodb", "ssm"):
        aws.client(service).meta.events.register(
            f"before-call.{service}", lambda model, _s=service, **_: calls.append(f"{_s}:{model.name}")
        )

    # WHEN a first request, then warm ones, are served
    post(handler, lambda_context, VALID)
    first = list(calls)
    calls.clear()
    post(handler, lambda_context, VALID)
    get(handler, lambda_context, {"tracking_id": "TRK-1"})

    # THEN the first reads the flags once; warm requests make exactly one DynamoDB call each
    assert first == ["ssm:GetParameter", "dynamodb:PutItem"]
    assert calls == ["dynamodb:PutItem", "dynamodb:Query"]


def test_a_broken_schema_is_our_500_not_the_clients_400(handler, lambda_context, stack, monkeypatch):
    # GIVEN a schema file that fastjsonschema cannot compile
    from tracking_api import validation

    monkeypatch.setattr(validation, "load_schema", lambda: {"$schema": "http://json-schema.org/draft-04/schema#", "type": 7})
    validation._compiled.cache_clear()
    try:
        # WHEN a valid body is posted / THEN the generic 500 (the request was fine), nothing stored
        assert post(handler, lambda_context, VALID) == (500, {"error": "Internal server error"})
        assert stack.items() == []
    finally:
        validation._compiled.cache_clear()


def test_a_page_of_large_updates_stays_under_lambdas_response_limit(handler, lambda_context, stack, monkeypatch):
    from tracking_api import clock
    from tracking_api.response_size import LAMBDA_RESPONSE_LIMIT_BYTES, PAGE_BUDGET_BYTES, in_response

    # GIVEN 100 updates of one shipment, each 10,000 control characters: 10 KB stored (DynamoDB's
    # 1 MB per Query holds about 95), 70 KB in a response (\u0001 in the body, \\u0001 around it)
    for n in range(100):
        monkeypatch.setattr(clock, "now_ms", lambda n=n: 1_700_000_000_000 + n)
        assert post(handler, lambda_context, {**VALID, "metadata": {"n": n, "note": "\u0001" * 10_000}})[0] == 200
    # WHEN they are read 100 at a time
    params, seen, sizes, counts = {"tracking_id": "TRK-1", "limit": "100"}, [], [], []
    while True:
        response = handler.main(get_event(params), lambda_context)
        sizes.append(len(json.dumps(response)))  # what the Lambda runtime sends
        status_code, body = answer(response)
        assert status_code == 200
        seen += [u["metadata"]["n"] for u in body["updates"]]
        counts.append(body["count"])
        entry_bytes = in_response(body["updates"][-1])
        if "next_key" not in body:
            break
        params = {**params, "last_key": body["next_key"]}
    # THEN every response fits Lambda's 6 MB, the first page as full as the budget allows, and the
    # pages hold every update once, newest first
    assert max(sizes) <= LAMBDA_RESPONSE_LIMIT_BYTES
    assert entry_bytes > 70_000 and counts == [PAGE_BUDGET_BYTES // entry_bytes, 100 - PAGE_BUDGET_BYTES // entry_bytes]
    assert seen == list(reversed(range(100)))
