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


def post_and_project(handler, ctx, stack, monkeypatch, updates: list[tuple[str, str, int]], shuffle: int | None = None):
    """POST each (tracking_id, status, ms) through the handler, then project every stored item
    (the stream's new images) in stream order, or shuffled as retries would reorder them."""
    from tracking_api import clock

    for tracking_id, status, ms in updates:
        monkeypatch.setattr(clock, "now_ms", lambda ms=ms: ms)
        body = {"tracking_id": tracking_id, "status": status, "location": {"lat": 1.5, "lng": -2}}
        if tracking_id.endswith("m"):
            body["metadata"] = {"carrier": "X", "weight_kg": 12.50}
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
