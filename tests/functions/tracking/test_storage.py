"""tracking_api.storage against moto: no update lost or overwritten, pages newest first, failures wrapped."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from tracking_api import aws, clock, storage
from tracking_api.errors import StorageError
from tracking_api.validation import TrackingUpdate

FROZEN_MS = 1_700_000_000_000


def update(n: int = 0, tracking_id: str = "SHIP") -> TrackingUpdate:
    return TrackingUpdate(tracking_id, "in_transit", Decimal("1.5"), Decimal(-2), {"n": Decimal(n)})


@pytest.fixture
def store(stack):
    return storage.TrackingStore(stack.dynamodb, stack.table_name, environment="test")


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now_ms", lambda: FROZEN_MS)


@pytest.fixture
def atomic_moto_puts(monkeypatch):
    """DynamoDB checks a put's condition and writes atomically; moto checks, then writes, unlocked.

    Serialising moto's PutItem gives the emulator the atomicity the real service has, so a lost
    update in the concurrent test can only be the handler's fault.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.put_item

    def put_item(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_item)


def test_put_is_one_conditional_call(store, stack):
    # GIVEN botocore events counting the calls / WHEN one update is stored
    calls = []
    stack.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: calls.append((model.name, dict(params)))
    )
    timestamp = store.put_update(update())
    # THEN exactly one PutItem, conditional on the key being free
    assert [name for name, _ in calls] == ["PutItem"]
    assert calls[0][1]["ConditionExpression"] == "attribute_not_exists(tracking_id)"
    # AND asking for the blocking item, so a retried put can tell its own write from another
    assert calls[0][1]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert isinstance(timestamp, int)


def test_same_millisecond_updates_are_all_kept(store, stack, frozen_clock):
    # GIVEN a frozen clock / WHEN three updates of one shipment arrive in the same millisecond
    stamps = [store.put_update(update(n)) for n in range(3)]
    # THEN each got its own timestamp, the next free millisecond, and all three are stored
    assert stamps == [FROZEN_MS, FROZEN_MS + 1, FROZEN_MS + 2]
    assert sorted(int(i["metadata"]["M"]["n"]["N"]) for i in stack.items()) == [0, 1, 2]
    # AND another shipment still gets the clock's own millisecond
    assert store.put_update(update(tracking_id="OTHER")) == FROZEN_MS


def test_many_concurrent_same_millisecond_updates_lose_nothing(stack, frozen_clock, atomic_moto_puts):
    # GIVEN 24 writers (as many Lambda instances: each its own store) and a frozen clock
    writers, barrier = 24, threading.Barrier(24)
    results: list[int] = []
    errors: list[BaseException] = []

    def write(n: int) -> None:
        own_store = storage.TrackingStore(stack.dynamodb, stack.table_name)
        barrier.wait()
        try:
            results.append(own_store.put_update(update(n)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # WHEN they all store an update of the same shipment at once
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN every update is stored under its own timestamp: none lost, none overwritten
    assert errors == []
    assert sorted(results) == list(range(FROZEN_MS, FROZEN_MS + writers))
    stored = sorted(int(i["metadata"]["M"]["n"]["N"]) for i in stack.items())
    assert stored == list(range(writers))


def test_retries_are_bounded(store, stack, frozen_clock, monkeypatch):
    # GIVEN every millisecond within the retry bound already taken
    monkeypatch.setattr(storage, "MAX_PUT_ATTEMPTS", 3)
    for _ in range(3):
        store.put_update(update())
    # WHEN one more arrives in that millisecond / THEN a StorageError, not an overwrite
    with pytest.raises(StorageError, match="no free timestamp"):
        store.put_update(update(99))
    assert len(stack.items()) == 3


def test_item_shape(store, stack):
    # GIVEN / WHEN an update is stored / THEN the item has the documented attributes
    timestamp = store.put_update(update(7))
    (item,) = stack.items()
    assert set(item) == {
        "tracking_id", "timestamp", "status", "location", "metadata", "environment", "created_at",
        storage.WRITE_ID_ATTRIBUTE,
    }
    assert item["created_at"]["S"].endswith("Z") and item["timestamp"] == {"N": str(timestamp)}
    # AND the write id (how a retried put knows its own write) is 128 random bits in hex
    assert re.fullmatch(r"[0-9a-f]{32}", item[storage.WRITE_ID_ATTRIBUTE]["S"])
    # AND a reader never sees it: it is not part of the update
    (read,) = store.query_updates("SHIP", 10).items
    assert storage.WRITE_ID_ATTRIBUTE not in read and read["timestamp"] == timestamp


def test_query_pages_newest_first(store, stack, monkeypatch):
    # GIVEN five updates a millisecond apart
    ticks = iter(range(FROZEN_MS, FROZEN_MS + 5))
    monkeypatch.setattr(clock, "now_ms", lambda: next(ticks))
    for n in range(5):
        store.put_update(update(n))
    # WHEN read two at a time
    first = store.query_updates("SHIP", 2)
    second = store.query_updates("SHIP", 2, first.last_key)
    # THEN newest first, with plain Python values and a key to continue from
    assert [i["metadata"]["n"] for i in first.items] == [4, 3]
    assert [i["metadata"]["n"] for i in second.items] == [2, 1]
    assert first.last_key == {"tracking_id": "SHIP", "timestamp": FROZEN_MS + 3}
    assert first.items[0]["location"] == {"lat": Decimal("1.5"), "lng": Decimal(-2)}


def test_table_errors_become_storage_errors(store, stack):
    # GIVEN the table is gone / WHEN written or read / THEN StorageError (the handler's 500)
    stack.dynamodb.delete_table(TableName=stack.table_name)
    with pytest.raises(StorageError):
        store.put_update(update())
    with pytest.raises(StorageError):
        store.query_updates("SHIP", 10)


@pytest.fixture
def dynamodb_limit_semantics(stack):
    """Make moto answer Query as DynamoDB does: a LastEvaluatedKey whenever it stopped at Limit.

    DynamoDB cannot know that the Limit-th item was the last one, so it returns its key even at
    the very end of the partition; moto leaves it out there.
    """
    asked: dict[str, int] = {}

    def remember(params, **_):
        asked["limit"] = params.get("Limit", 0)

    def as_dynamodb(parsed, **_):
        items = parsed.get("Items", [])
        if items and len(items) == asked["limit"] and "LastEvaluatedKey" not in parsed:
            parsed["LastEvaluatedKey"] = {k: items[-1][k] for k in ("tracking_id", "timestamp")}

    events = stack.dynamodb.meta.events
    events.register("before-parameter-build.dynamodb.Query", remember)
    events.register("after-call.dynamodb.Query", as_dynamodb)
    yield
    events.unregister("before-parameter-build.dynamodb.Query", remember)
    events.unregister("after-call.dynamodb.Query", as_dynamodb)


def test_no_token_to_an_empty_last_page(store, stack, monkeypatch, dynamodb_limit_semantics):
    # GIVEN four updates, read two at a time from a table that answers as DynamoDB does
    ticks = iter(range(FROZEN_MS, FROZEN_MS + 4))
    monkeypatch.setattr(clock, "now_ms", lambda: next(ticks))
    for n in range(4):
        store.put_update(update(n))
    # WHEN the pages are followed until no key is given
    pages, key = [], None
    for _ in range(4):
        page = store.query_updates("SHIP", 2, key)
        pages.append([i["metadata"]["n"] for i in page.items])
        key = page.last_key
        if key is None:
            break
    # THEN exactly two full pages: the second says it is the last (no key to an empty third)
    assert pages == [[3, 2], [1, 0]]
    assert key is None


class CommitThenTimeOut:
    """Between the function's client and moto: the first PutItem commits, then its answer is lost.

    Registered last on `before-send`, it runs after moto's own handler has executed the request,
    and raises the read timeout a client sees when DynamoDB commits a write but the answer never
    arrives. botocore's standard retry mode then sends the same PutItem again, as it would on AWS.
    """

    def __init__(self, client) -> None:
        self.client = client
        self.sent: list[str] = []

    def __call__(self, request, event_name: str, **_) -> None:
        from botocore.exceptions import ReadTimeoutError

        operation = event_name.rsplit(".", 1)[-1]
        self.sent.append(operation)
        if operation == "PutItem" and self.sent.count("PutItem") == 1:
            raise ReadTimeoutError(endpoint_url=request.url)

    def __enter__(self) -> CommitThenTimeOut:
        self.client.meta.events.register_last("before-send", self)
        return self

    def __exit__(self, *_) -> None:
        self.client.meta.events.unregister("before-send", self)


def test_a_retried_put_that_had_committed_stores_nothing_more(stack, frozen_clock):
    # GIVEN the function's own client (standard retries) and a first PutItem that commits, then times out
    store = storage.TrackingStore(aws.client("dynamodb"), stack.table_name, environment="test")
    with CommitThenTimeOut(aws.client("dynamodb")) as link:
        # WHEN one update is stored
        timestamp = store.put_update(update(5))
    # THEN botocore sent the PutItem twice (the retry met the committed item) ...
    assert link.sent == ["PutItem", "PutItem"]
    # ... and the update is stored once, under the timestamp the answer gives
    (item,) = stack.items()
    assert timestamp == FROZEN_MS
    assert item["timestamp"] == {"N": str(FROZEN_MS)} and item["metadata"] == {"M": {"n": {"N": "5"}}}


def test_a_retry_that_meets_another_update_still_moves_on(stack, frozen_clock):
    # GIVEN another update of the shipment already in this millisecond, and a first PutItem whose answer is lost
    store = storage.TrackingStore(aws.client("dynamodb"), stack.table_name, environment="test")
    assert store.put_update(update(1)) == FROZEN_MS
    with CommitThenTimeOut(aws.client("dynamodb")) as link:
        # WHEN a second update is stored
        timestamp = store.put_update(update(2))
    # THEN the retry of that first put was refused by the other update (another write id), so the
    # put moved to the next millisecond instead of taking the other update for its own
    assert link.sent == ["PutItem", "PutItem", "PutItem"]
    assert timestamp == FROZEN_MS + 1
    stored = sorted((int(i["timestamp"]["N"]), i["metadata"]["M"]["n"]["N"]) for i in stack.items())
    assert stored == [(FROZEN_MS, "1"), (FROZEN_MS + 1, "2")]
