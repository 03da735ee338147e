"""GET /shipments end to end through `python -m scripts.local`: POSTs over signed HTTP, the
table's stream read by the local poller, the projection run in-process by the stream function,
and the listing read back as a client would."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from .support import Client
from .test_local_e2e import client, local_api  # noqa: F401 - fixtures: one scripts.local for this module

pytestmark = pytest.mark.slow

# The bound asserted for "listed under its new status after the POST" (measured: see docs/scale.md).
CONSISTENCY_BOUND_S = 5.0


def update(tracking_id: str, status: str) -> dict:
    return {"tracking_id": tracking_id, "status": status, "location": {"lat": 52.52, "lng": 13.405}}


def listed(client: Client, status: str, limit: int = 100) -> list[str]:
    """Every tracking_id listed under status, following next_key; asserts each page's shape."""
    seen: list[str] = []
    path = f"/shipments?status={status}&limit={limit}"
    while True:
        answer = client.call("GET", path)
        assert answer.status == 200, answer.json
        assert answer.json["status"] == status and answer.json["count"] == len(answer.json["shipments"])
        seen += [s["tracking_id"] for s in answer.json["shipments"]]
        if "next_key" not in answer.json:
            return seen
        assert answer.json["shipments"], "a next_key is never followed by an empty page"
        path = f"/shipments?status={status}&limit={limit}&last_key={quote(answer.json['next_key'])}"


def post_and_wait(client: Client, tracking_id: str, status: str) -> float:
    """POST an update and return how long until the listing shows the shipment under status."""
    answer = client.call("POST", "/track", update(tracking_id, status))
    assert answer.status == 200, answer.json
    stored = time.monotonic()
    while tracking_id not in listed(client, status):
        assert time.monotonic() - stored < CONSISTENCY_BOUND_S, f"{tracking_id} not listed as {status}"
        time.sleep(0.02)
    return time.monotonic() - stored


def test_shipments_move_between_statuses_and_are_listed_under_the_current_one_only(client: Client) -> None:
    # GIVEN five shipments that move through their lives, each POST waited on until listed
    lives = {
        "E2E-L1": ["pending", "in_transit", "delivered"],
        "E2E-L2": ["pending", "in_transit"],
        "E2E-L3": ["in_transit", "failed"],
        "E2E-L4": ["pending"],
        "E2E-L5": ["in_transit", "in_transit"],
    }
    delays = []
    for step in range(3):
        for tracking_id, statuses in lives.items():
            if step < len(statuses):
                delays.append(post_and_wait(client, tracking_id, statuses[step]))

    # WHEN every status is listed
    by_status = {s: listed(client, s) for s in ("pending", "in_transit", "delivered", "failed")}

    # THEN each shipment is under its latest status only, newest latest-update first
    assert by_status == {
        "pending": ["E2E-L4"],
        "in_transit": ["E2E-L5", "E2E-L2"],
        "delivered": ["E2E-L1"],
        "failed": ["E2E-L3"],
    }
    # AND each move showed within the bound (the local poller reads the stream every 0.25 s)
    print(f"listed after POST: max {max(delays):.3f} s, median {sorted(delays)[len(delays) // 2]:.3f} s")
    assert max(delays) < CONSISTENCY_BOUND_S


def test_paging_with_limit_1_returns_each_shipment_exactly_once(client: Client) -> None:
    # GIVEN 7 more delivered shipments (over dev's 2 shards), each listed
    for n in range(7):
        post_and_wait(client, f"E2E-P{n}", "delivered")

    # WHEN the delivered listing is walked one per page
    one_by_one = listed(client, "delivered", limit=1)

    # THEN each comes exactly once, newest first, the same as in one page
    assert one_by_one == listed(client, "delivered", limit=100)
    assert sorted(one_by_one) == sorted(set(one_by_one))
    assert [t for t in one_by_one if t.startswith("E2E-P")] == [f"E2E-P{n}" for n in reversed(range(7))]


def test_the_gateway_checks_the_listing_like_api_gateway(client: Client) -> None:
    # GIVEN the template marks status required on GET /shipments  # WHEN it is left out
    answer = client.call("GET", "/shipments?limit=5")
    # THEN API Gateway's validator refuses it before the handler runs
    assert (answer.status, answer.json) == (400, {"message": "Missing required request parameters: [status]"})
    # AND unsigned requests are refused; the handler's own 400s come through
    assert client.call("GET", "/shipments?status=pending", credentials=None).status == 403
    bad = client.call("GET", "/shipments?status=lost")
    assert (bad.status, bad.json) == (400, {"error": "status must be one of ['pending', 'in_transit', 'delivered', 'failed']"})
    foreign = client.call("GET", "/shipments?status=pending&last_key=AQIHcGVuZGluZw")
    assert (foreign.status, foreign.json) == (400, {"error": "last_key is not a valid page token"})
