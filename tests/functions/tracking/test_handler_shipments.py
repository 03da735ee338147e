"""GET /shipments through handler.main against moto: updates POSTed through the handler, their
current state written by the stream function's projection, the listing read back page by page."""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import botocore.handlers
import pytest

from tracking_api import listing_token

from .conftest import REPO_ROOT, answer, get_event, parse_logs, post_event
from .stack import STATE_TABLE_NAME

NOTIFIER_DIR = str(REPO_ROOT / "functions" / "notifier")
if NOTIFIER_DIR not in sys.path:
    sys.path.insert(0, NOTIFIER_DIR)
from status_notifier.projection import Projection  # noqa: E402

T0 = 1_700_000_000_000


def shipments_event(params: dict[str, str] | None) -> dict[str, Any]:
    event = get_event(params)
    event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = "/shipments"
    event["requestContext"]["path"] = event["requestContext"]["path"].replace("/status", "/shipments")
    return event


def listing(handler: Any, ctx: Any, params: dict[str, str] | None) -> tuple[int, Any]:
    return answer(handler.main(shipments_event(params), ctx))


def post_and_project(handler, ctx, stack, monkeypatch, updates: list[tuple[str, str, int]], shuffle: int | None = None,
                     metadata: dict | None = None):
    """POST each (tracking_id, status, ms) through the handler, then project every stored item
    (the stream's new images) in stream order, or shuffled as retries would reorder them."""
    from tracking_api import clock

    for tracking_id, status, ms in updates:
        monkeypatch.setattr(clock, "now_ms", lambda ms=ms: ms)
        body = {"tracking_id": tracking_id, "status": status, "location": {"lat": 1.5, "lng": -2}}
        if tracking_id.endswith("m"):
            body["metadata"] = {"carrier": "X", "weight_kg": 12.50}
        if metadata is not None:
            body["metadata"] = metadata
        assert answer(handler.main(post_event(body), ctx))[0] == 200
    images = sorted(stack.items(), key=lambda item: int(item["timestamp"]["N"]))
    if shuffle is not None:
        random.Random(shuffle).shuffle(images)
    writer = Projection(STATE_TABLE_NAME, int(stack.env["LISTING_SHARDS"]))
    for image in images:
        writer.apply(image, stack.dynamodb)


# More pages than any test lists: a listing that never ends fails the test instead of hanging it
# (a hang is not a failure, and the mutation runner does not count it as one).
MAX_PAGES = 200


def walk(handler, ctx, params: dict[str, str]) -> tuple[list[str], int]:
    """Every tracking_id listed by following next_key, and the number of pages."""
    seen: list[str] = []
    for pages in range(1, MAX_PAGES + 1):
        status_code, body = listing(handler, ctx, params)
        assert status_code == 200, body
        assert body["count"] == len(body["shipments"])
        seen += [s["tracking_id"] for s in body["shipments"]]
        if "next_key" not in body:
            return seen, pages
        assert body["shipments"], "a next_key is never followed by an empty page"
        params = {**params, "last_key": body["next_key"]}
    pytest.fail(f"the listing did not end within {MAX_PAGES} pages")


LIFE = [
    ("A", "pending", T0),
    ("B", "pending", T0 + 1),
    ("A", "in_transit", T0 + 2),
    ("Cm", "in_transit", T0 + 3),
    ("B", "in_transit", T0 + 4),
    ("D", "in_transit", T0 + 5),
    ("A", "delivered", T0 + 6),
    ("E", "failed", T0 + 7),
    ("F", "in_transit", T0 + 8),
]


@pytest.mark.parametrize("shuffle", [None, 1, 2])
def test_shipments_are_listed_under_their_current_status_only_newest_first(
    handler, lambda_context, stack, monkeypatch, shuffle
):
    # GIVEN shipments moving between statuses, projected in order or reordered by retries
    post_and_project(handler, lambda_context, stack, monkeypatch, LIFE, shuffle)

    # WHEN each status is listed
    listed = {s: listing(handler, lambda_context, {"status": s})[1] for s in ("pending", "in_transit", "delivered", "failed")}

    # THEN each shipment is under its latest status only, newest latest-update first
    assert {s: [e["tracking_id"] for e in body["shipments"]] for s, body in listed.items()} == {
        "pending": [],
        "in_transit": ["F", "D", "B", "Cm"],
        "delivered": ["A"],
        "failed": ["E"],
    }
    # AND each entry is that latest update, exactly: integer epoch ms, exact numbers, metadata when present
    body = listed["in_transit"]
    assert body["status"] == "in_transit" and body["count"] == 4 and "next_key" not in body
    assert body["shipments"][0] == {"tracking_id": "F", "status": "in_transit", "timestamp": T0 + 8,
                                    "location": {"lat": 1.5, "lng": -2}}
    assert body["shipments"][3]["metadata"] == {"carrier": "X", "weight_kg": 12.5}
    assert listed["pending"] == {"status": "pending", "shipments": [], "count": 0}


def test_paging_with_limit_1_returns_each_shipment_exactly_once(handler, lambda_context, stack, monkeypatch):
    # GIVEN 9 in-transit shipments (spread over the environment's 2 shards), 3 of them in the same millisecond
    updates = [(f"P{n}", "in_transit", T0 + n) for n in range(6)] + [(f"Q{n}", "in_transit", T0 + 100) for n in range(3)]
    post_and_project(handler, lambda_context, stack, monkeypatch, updates)

    # WHEN the listing is walked one shipment per page
    seen, pages = walk(handler, lambda_context, {"status": "in_transit", "limit": "1"})

    # THEN every shipment comes exactly once, newest first (same-ms ones in some order), with no empty page
    assert sorted(seen) == sorted(tid for tid, _, _ in updates)
    assert seen[3:] == ["P5", "P4", "P3", "P2", "P1", "P0"]
    assert pages == 9


@pytest.mark.parametrize("limit", ["2", "3", "9", "100"])
def test_every_page_size_walks_the_same_listing(handler, lambda_context, stack, monkeypatch, limit):
    updates = [(f"S{n:02d}", "delivered", T0 + n) for n in range(9)]
    post_and_project(handler, lambda_context, stack, monkeypatch, updates)
    seen, pages = walk(handler, lambda_context, {"status": "delivered", "limit": limit})
    assert seen == [f"S{n:02d}" for n in reversed(range(9))]
    assert pages == -(-9 // int(limit))


def test_a_page_queries_each_live_shard_once_in_parallel(handler, lambda_context, stack, monkeypatch):
    # GIVEN shipments on both shards, and every Query counted
    calls: list[dict] = []
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS",
                        [*botocore.handlers.BUILTIN_HANDLERS, ("before-parameter-build.dynamodb.Query", lambda params, **_: calls.append(params))])
    updates = [(f"P{n}", "in_transit", T0 + n) for n in range(8)]
    post_and_project(handler, lambda_context, stack, monkeypatch, updates)
    from tracking_api import aws

    aws.reset()  # a client made from now on carries the counter

    # WHEN the first page is read
    status_code, body = listing(handler, lambda_context, {"status": "in_transit", "limit": "50"})

    # THEN one Query per shard key of the index, each for limit + 1, newest first
    assert status_code == 200 and body["count"] == 8 and "next_key" not in body
    assert sorted(c["ExpressionAttributeValues"][":shard"]["S"] for c in calls) == ["in_transit#0", "in_transit#1"]
    assert {(c["IndexName"], c["Limit"], c["ScanIndexForward"]) for c in calls} == {("CurrentStatusIndex", 51, False)}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (None, "status is required"),
        ({"limit": "5"}, "status is required"),
        ({"status": "lost"}, "status must be one of ['pending', 'in_transit', 'delivered', 'failed']"),
        ({"status": "IN_TRANSIT"}, "status must be one of ['pending', 'in_transit', 'delivered', 'failed']"),
        ({"status": "in_transit", "limit": "0"}, "limit must be an integer from 1 to 100"),
        ({"status": "in_transit", "limit": "101"}, "limit must be an integer from 1 to 100"),
        ({"status": "in_transit", "last_key": "nope!"}, "last_key is not a valid page token"),
        ({"status": "in_transit", "last_key": "WyJUUkstMSIsMTcwMDAwMDAwMDAwMF0"}, "last_key is not a valid page token"),
    ],
)
def test_bad_queries_are_400_with_the_reason(handler, lambda_context, stack, log_lines, params, reason):
    status_code, body = listing(handler, lambda_context, params)
    assert (status_code, body) == (400, {"error": reason})
    assert any(line.get("reason") == reason for line in parse_logs(log_lines))


def test_tokens_minted_for_another_listing_are_400_with_the_reason(handler, lambda_context, stack):
    # GIVEN tokens minted inside the test (mutmut never mutates what runs while collecting)
    for_three_shards = listing_token.encode("in_transit", (1, 2, 3))
    for_delivered = listing_token.encode("delivered", (1, 2))
    # THEN each is refused with its reason
    assert listing(handler, lambda_context, {"status": "in_transit", "last_key": for_three_shards}) == (
        400, {"error": "last_key is not a valid page token"}
    )
    assert listing(handler, lambda_context, {"status": "in_transit", "last_key": for_delivered}) == (
        400, {"error": "last_key belongs to another status"}
    )


def test_a_token_from_another_status_listing_cannot_page_this_one(handler, lambda_context, stack, monkeypatch):
    # GIVEN a real next_key from the delivered listing
    post_and_project(handler, lambda_context, stack, monkeypatch, [(f"S{n}", "delivered", T0 + n) for n in range(3)])
    token = listing(handler, lambda_context, {"status": "delivered", "limit": "1"})[1]["next_key"]
    # WHEN it is sent with another status / THEN 400
    assert listing(handler, lambda_context, {"status": "failed", "last_key": token}) == (
        400, {"error": "last_key belongs to another status"}
    )


def test_a_failing_query_is_a_bare_500(handler, lambda_context, stack, log_lines):
    # GIVEN the state table gone
    stack.dynamodb.delete_table(TableName=STATE_TABLE_NAME)
    # WHEN listed / THEN 500 with nothing internal, and the failure is logged
    status_code, body = listing(handler, lambda_context, {"status": "pending"})
    assert (status_code, body) == (500, {"error": "Internal server error"})
    assert STATE_TABLE_NAME not in json.dumps(body)
    assert any(line.get("message") == "Unhandled exception" for line in parse_logs(log_lines))


def test_an_exhausted_shard_is_not_queried_again(handler, lambda_context, stack, monkeypatch):
    # GIVEN three shipments that all hash to shard 0 of 2 (shard 1 is empty)
    from status_notifier.sharding import shard_of

    names = [tid for tid in (f"H{n}" for n in range(40)) if shard_of(tid, 2) == 0][:3]
    post_and_project(handler, lambda_context, stack, monkeypatch, [(tid, "failed", T0 + i) for i, tid in enumerate(names)])
    calls: list[str] = []
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [
        *botocore.handlers.BUILTIN_HANDLERS,
        ("before-parameter-build.dynamodb.Query", lambda params, **_: calls.append(params["ExpressionAttributeValues"][":shard"]["S"])),
    ])
    from tracking_api import aws

    aws.reset()

    # WHEN the listing is walked one per page
    seen, pages = walk(handler, lambda_context, {"status": "failed", "limit": "1"})

    # THEN the first page asks both shards, and every later page only the shard that still has shipments
    assert seen == list(reversed(names)) and pages == 3
    assert sorted(calls[:2]) == ["failed#0", "failed#1"] and calls[2:] == ["failed#0", "failed#0"]


# 30,000 quotes: a 60 KB request body (under the 64 KiB limit) that takes 120 KB inside a proxy
# response (each quote is \" in the body, \\\" in the response's body string).
HEAVY = {"note": '"' * 30_000}


def runtime_bytes(response: dict) -> int:
    """The response's size as the Lambda runtime sends it (json.dumps, ASCII)."""
    return len(json.dumps(response))


def test_a_page_of_large_shipments_stays_under_lambdas_response_limit(handler, lambda_context, stack, monkeypatch):
    from tracking_api.response_size import LAMBDA_RESPONSE_LIMIT_BYTES, PAGE_BUDGET_BYTES, in_response

    # GIVEN 100 delivered shipments of 120 KB each in a response (12 MB for a page of 100)
    updates = [(f"L{n:03d}", "delivered", T0 + n) for n in range(100)]
    post_and_project(handler, lambda_context, stack, monkeypatch, updates, metadata=HEAVY)
    # WHEN the listing is walked 100 at a time
    params, seen, sizes, counts = {"status": "delivered", "limit": "100"}, [], [], []
    while True:
        response = handler.main(shipments_event(params), lambda_context)
        sizes.append(runtime_bytes(response))
        status_code, body = answer(response)
        assert status_code == 200
        seen += [s["tracking_id"] for s in body["shipments"]]
        counts.append(body["count"])
        entry_bytes = in_response(body["shipments"][0])
        if "next_key" not in body:
            break
        params = {**params, "last_key": body["next_key"]}
    # THEN every response fits Lambda's 6 MB, pages are as full as the budget allows, and the
    # walk lists every shipment once, newest first
    assert max(sizes) <= LAMBDA_RESPONSE_LIMIT_BYTES
    full = PAGE_BUDGET_BYTES // entry_bytes
    assert entry_bytes > 120_000 and counts == [full, full, 100 - 2 * full]
    assert seen == [tid for tid, _, _ in reversed(updates)]


@pytest.mark.slow
def test_a_page_over_16_shards_keeps_every_connection(handler, lambda_context, moto_endpoint, monkeypatch, caplog):
    import logging
    import time

    from moto.dynamodb.models import DynamoDBBackend
    from tracking_api import aws

    from .conftest import reset_caches
    from .stack import provision

    # GIVEN prod's 16 shards, the tables on a moto server (real HTTP, real connection pool), and
    # each Query taking 0.3 s there, so the 16 queries of a page hold their connections at once
    defs = provision(moto_endpoint)
    for name, value in {**defs.function_env, "AWS_ENDPOINT_URL": moto_endpoint, "LISTING_SHARDS": "16"}.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    original = DynamoDBBackend.query

    def slow_query(self, *args, **kwargs):
        time.sleep(0.3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "query", slow_query)
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    try:
        # WHEN a page is read
        status_code, body = listing(handler, lambda_context, {"status": "pending"})
        # THEN it is served, and no connection was opened only to be thrown away (urllib3 warns
        # "Connection pool is full, discarding connection" when the pool is smaller than the shards)
        assert (status_code, body) == (200, {"status": "pending", "shipments": [], "count": 0})
        assert [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")] == []
        assert aws.client("dynamodb", parallel_requests=16).meta.config.max_pool_connections == 16
    finally:
        reset_caches()


def test_what_a_walk_promises_when_shipments_move_during_it(handler, lambda_context, stack, monkeypatch):
    from status_notifier.sharding import shard_of

    shards = int(stack.env["LISTING_SHARDS"])
    # GIVEN 20 in-transit shipments, and the first page of a walk 4 at a time
    updates = [(f"W{n:02d}", "in_transit", T0 + n) for n in range(20)]
    post_and_project(handler, lambda_context, stack, monkeypatch, updates)
    params = {"status": "in_transit", "limit": "4"}
    status_code, first = listing(handler, lambda_context, params)
    assert status_code == 200
    listed = [s["tracking_id"] for s in first["shipments"]]
    assert listed == ["W19", "W18", "W17", "W16"]
    # WHEN, between pages, a listed shipment gets a newer update, an unlisted one on a shard the
    # walk has moved down gets one too, and another unlisted one moves to another status
    walked_shards = {shard_of(tid, shards) for tid in listed}
    jumper = next(tid for tid, _, _ in updates[:16] if shard_of(tid, shards) in walked_shards)
    leaver = next(tid for tid, _, _ in updates[:16] if tid != jumper)
    post_and_project(handler, lambda_context, stack, monkeypatch, [
        ("W19", "in_transit", T0 + 100), (jumper, "in_transit", T0 + 101), (leaver, "delivered", T0 + 102),
    ])
    rest, _ = walk(handler, lambda_context, {**params, "last_key": first["next_key"]})
    seen = listed + rest
    # THEN no shipment is listed twice ...
    assert len(seen) == len(set(seen))
    # ... every shipment not updated during the walk is listed exactly once, newest first ...
    untouched = [tid for tid, _, _ in reversed(updates) if tid not in ("W19", jumper, leaver)]
    assert [tid for tid in seen if tid in untouched] == untouched
    # ... and one that got a newer update before the walk reached it jumped above the walk: skipped
    assert jumper not in seen and leaver not in seen
    # AND a fresh walk lists every shipment now in transit, the moved ones first (newest)
    fresh, _ = walk(handler, lambda_context, params)
    assert fresh == [jumper, "W19", *untouched]
