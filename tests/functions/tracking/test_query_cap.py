"""DynamoDB's 1 MB cap through the real query code of GET /status and GET /shipments.

A Query whose items pass 1 MB stops early: fewer items than its Limit, and a LastEvaluatedKey.
moto never does that, so a botocore handler on the client cuts every answer short the same way;
the store and the listing then run their own Query code against moto's real table and index.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from tracking_api import clock, listing, listing_token, storage
from tracking_api.validation import TrackingUpdate

from tracking_templates.names import STATE_INDEX

from .conftest import REPO_ROOT, Stack
from .stack import STATE_TABLE_NAME

NOTIFIER_DIR = str(REPO_ROOT / "functions" / "notifier")
if NOTIFIER_DIR not in sys.path:
    sys.path.insert(0, NOTIFIER_DIR)
from status_notifier import sharding  # noqa: E402
from status_notifier.projection import Projection  # noqa: E402

T0 = 1_700_000_000_000
TABLE_KEY = ("tracking_id", "timestamp")
INDEX_KEY = ("tracking_id", listing.SHARD_ATTRIBUTE, listing.RANK_ATTRIBUTE)
MAX_PAGES = 20  # more than these walks need; a walk that never ends fails its test instead of hanging it


def cut_short(keep: int, key: tuple[str, ...]) -> Callable[..., None]:
    """An after-call handler for Query: past `keep` items, stop there with that item's key, as the cap does."""

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        items = parsed.get("Items", [])
        if len(items) > keep:
            parsed["Items"], parsed["Count"] = items[:keep], keep
            parsed["LastEvaluatedKey"] = {name: items[keep - 1][name] for name in key}

    return handler


@pytest.fixture
def capped(stack: Stack) -> Iterator[Callable[[int, tuple[str, ...]], list[int]]]:
    """Cut every Query of the stack's client short after N items; returns the Limits it was sent."""
    registered: list[tuple[str, Callable[..., None]]] = []

    def install(keep: int, key: tuple[str, ...]) -> list[int]:
        limits: list[int] = []
        registered.append(("before-parameter-build.dynamodb.Query", lambda params, **_: limits.append(params["Limit"])))
        registered.append(("after-call.dynamodb.Query", cut_short(keep, key)))
        for event, handler in registered[-2:]:
            stack.dynamodb.meta.events.register(event, handler)
        return limits

    yield install
    for event, handler in registered:
        stack.dynamodb.meta.events.unregister(event, handler)


def test_a_status_page_cut_short_by_the_cap_resumes_after_its_last_item(stack, capped, monkeypatch) -> None:
    # GIVEN five updates of one shipment, a millisecond apart, and a table whose answers stop after two
    store = storage.TrackingStore(stack.dynamodb, stack.table_name)
    ticks = iter(range(T0, T0 + 5))
    monkeypatch.setattr(clock, "now_ms", lambda: next(ticks))
    for n in range(5):
        store.put_update(TrackingUpdate("SHIP", "in_transit", Decimal(1), Decimal(2), {"n": n}))
    limits = capped(2, TABLE_KEY)

    # WHEN a page of four is asked for
    page = store.query_updates("SHIP", 4)

    # THEN DynamoDB was asked for one more than the page, the short page says where it stopped
    assert limits == [5]
    assert [item["metadata"]["n"] for item in page.items] == [4, 3]
    assert page.last_key == {"tracking_id": "SHIP", "timestamp": T0 + 3}
    # AND following the keys lists every update once, newest first, and then stops
    seen = [item["metadata"]["n"] for item in page.items]
    for _ in range(MAX_PAGES):  # bounded: a key that never runs out fails instead of hanging
        if page.last_key is None:
            break
        page = store.query_updates("SHIP", 4, page.last_key)
        seen += [item["metadata"]["n"] for item in page.items]
    assert seen == [4, 3, 2, 1, 0]
    assert limits == [5, 5, 5]


def shipments(stack: Stack, count: int, shards: int) -> list[str]:
    """`count` in-transit shipments projected into the state table, one a millisecond; newest first."""
    writer = Projection(STATE_TABLE_NAME, shards)
    names = [f"P{n:02d}" for n in range(count)]
    for n, name in enumerate(names):
        image = {
            "tracking_id": {"S": name},
            "status": {"S": "in_transit"},
            "timestamp": {"N": str(T0 + n)},
            "location": {"M": {"lat": {"N": "1"}, "lng": {"N": "2"}}},
        }
        writer.apply(image, stack.dynamodb)
    return names[::-1]


def test_a_listing_whose_shards_are_cut_short_lists_every_shipment_once_newest_first(stack, capped) -> None:
    # GIVEN twelve shipments over two shards, and every shard query stopping after three items
    expected = shipments(stack, 12, shards=2)
    limits = capped(3, INDEX_KEY)
    reader = listing.ShipmentListing(stack.dynamodb, STATE_TABLE_NAME, STATE_INDEX)

    # WHEN the listing is walked five at a time
    seen, sizes, positions = [], [], listing_token.first_page(2)
    for _ in range(MAX_PAGES):
        if positions is None:
            break
        page = reader.page("in_transit", 5, positions)
        seen += [item["tracking_id"] for item in page.items]
        sizes.append(len(page.items))
        positions = page.positions

    # THEN each shard was asked for limit + 1, nothing was skipped, repeated or listed out of order
    assert set(limits) == {6}
    assert seen == expected
    # AND a page lists nothing below the highest point where a cut shard stopped: page 1 ends at
    # shard 0's third item (P09), page 2 at shard 1's (P04), page 3 holds the four left
    assert sizes == [3, 5, 4]
    assert page.items[-1] == {
        "tracking_id": "P00", "status": "in_transit", "timestamp": T0, "location": {"lat": 1, "lng": 2},
    }  # fmt: skip


def test_a_listing_page_holds_only_what_is_above_the_cut(stack, capped) -> None:
    # GIVEN six shipments on one shard, which stops after two
    shipments(stack, 6, shards=1)
    capped(2, INDEX_KEY)
    reader = listing.ShipmentListing(stack.dynamodb, STATE_TABLE_NAME, STATE_INDEX)
    # WHEN a page of five is read
    page = reader.page("in_transit", 5, listing_token.first_page(1))
    # THEN it lists the two the shard gave and resumes below the second, as integers
    assert [item["tracking_id"] for item in page.items] == ["P05", "P04"]
    (position,) = page.positions
    assert type(position) is int and position == sharding.rank(T0 + 4, "P04")
