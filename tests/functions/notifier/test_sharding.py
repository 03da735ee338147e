"""The listing's sharding function and the projection's ordering rule (pure modules), and the
1,000,000-update skew simulation behind docs/scale.md."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from status_notifier import ordering, sharding
from status_notifier.ordering import Arrival

from tracking_templates.settings import TRACKING_STATUSES, settings_for

# --- sharding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracking_id", "digest", "shards"),
    [
        # BLAKE2b-64 of the UTF-8 bytes, big-endian; shards for N = 1, 2, 16, 255
        ("PKG-1", 0x9F56E8344D903652, [0, 0, 2, 121]),
        ("1Z999AA10123456784", 0x6A4DC9C1F45E3761, [0, 1, 1, 47]),
        ("é", 0xCB1ABF8BEFF3192F, [0, 1, 15, 93]),
    ],
)
def test_hash_and_shard_are_stable_across_processes_and_releases(tracking_id: str, digest: int, shards: list) -> None:
    # GIVEN values computed once (a change here moves every shipment to another shard)
    # THEN the hash and the shard for each count are exactly those
    assert sharding.tracking_hash(tracking_id) == digest
    assert [sharding.shard_of(tracking_id, n) for n in (1, 2, 16, 255)] == shards


@pytest.mark.parametrize("shards", [0, -1])
def test_shard_count_below_one_is_refused(shards: int) -> None:
    with pytest.raises(ValueError, match=f"^shards must be at least 1, not {shards}$"):
        sharding.shard_of("PKG-1", shards)


def test_shard_key_and_attribute_names() -> None:
    assert sharding.shard_key("in_transit", 3) == "in_transit#3"
    assert sharding.shard_key("failed", 15) == "failed#15"
    assert (sharding.SHARD_ATTRIBUTE, sharding.RANK_ATTRIBUTE) == ("listing_shard", "listing_rank")


def test_rank_is_time_then_hash() -> None:
    # THEN the timestamp fills the high bits and the tracking id's hash the low 64
    assert sharding.rank(1_700_000_000_000, "PKG-1") == 1_700_000_000_000 * 2**64 + 0x9F56E8344D903652
    assert sharding.rank(0, "PKG-1") == 0x9F56E8344D903652
    assert sharding.rank(1, "1Z999AA10123456784") == 2**64 + 0x6A4DC9C1F45E3761
    # AND a later update always ranks higher, whatever the hashes; same-ms ties break by hash
    assert sharding.rank(1001, "PKG-1") > sharding.rank(1000, "é") > sharding.rank(1000, "1Z999AA10123456784")


def test_negative_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="^timestamp must not be negative, not -1$"):
        sharding.rank(-1, "PKG-1")


# --- ordering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("incoming", "current", "arrival"),
    [
        (5, None, Arrival.NEWER),  # nothing stored yet
        (0, None, Arrival.NEWER),
        (6, 5, Arrival.NEWER),  # one millisecond newer is newer
        (5, 5, Arrival.DUPLICATE),  # the same update again (at-least-once delivery)
        (4, 5, Arrival.STALE),  # one millisecond older is stale
        (0, 1_700_000_000_000, Arrival.STALE),
    ],
)
def test_classify_only_strictly_newer_moves_forward(incoming: int, current: int | None, arrival: Arrival) -> None:
    assert ordering.classify(incoming, current) is arrival


def test_forward_only_condition_is_exact() -> None:
    # THEN the write lands only on an absent state or a strictly older one
    assert ordering.forward_only({"N": "42"}) == {
        "ConditionExpression": "attribute_not_exists(tracking_id) OR #ts < :ts",
        "ExpressionAttributeNames": {"#ts": "timestamp"},
        "ExpressionAttributeValues": {":ts": {"N": "42"}},
    }
    assert [a.value for a in Arrival] == ["newer", "duplicate", "stale"]


# --- scale: 1,000,000 updates with a realistic skew ----------------------------------------

UPDATES = 1_000_000
# About 70 % of scans are in transit; a parcel is picked up once and delivered (or fails) once.
SKEW = {"pending": 10, "in_transit": 70, "delivered": 15, "failed": 5}
# A window of 1,000,000 updates (under 3 minutes at 6,000 updates/s) drawn from 20 M parcels a day.
PARCELS = 20_000_000
TOLERANCE = 0.05
# Below this many writes per shard, a status's spread is dominated by binomial noise (sd/mean =
# sqrt((N-1)/W)) rather than by the hash, and the status is far below any partition's limit.
WRITES_PER_SHARD_FOR_THE_5_PERCENT_BOUND = 4_000


@pytest.fixture(scope="module")
def updates() -> list[tuple[str, str]]:
    rng = random.Random(20261201)
    statuses = rng.choices(list(SKEW), weights=list(SKEW.values()), k=UPDATES)
    # Sequential carrier-style ids: the case a weak hash (or the id's last digits) would skew.
    return [(f"1Z{rng.randrange(PARCELS):010d}", status) for status in statuses]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_million_skewed_updates_spread_evenly_over_each_statuss_shards(env: str, updates) -> None:
    # GIVEN the environment's shard count
    shards = settings_for(env).listing_shards
    # WHEN 1,000,000 updates go through the sharding function
    writes = Counter((status, sharding.shard_of(tracking_id, shards)) for tracking_id, status in updates)
    totals = Counter(status for _, status in updates)
    assert set(totals) == set(TRACKING_STATUSES) and sum(totals.values()) == UPDATES
    assert totals["in_transit"] > 0.69 * UPDATES
    for status, total in totals.items():
        fair = total / shards
        busiest = max(writes[(status, shard)] for shard in range(shards))
        # THEN no partition key takes more than its 1/N share + 5 % of the status's writes
        if fair >= WRITES_PER_SHARD_FOR_THE_5_PERCENT_BOUND:
            assert busiest <= fair * (1 + TOLERANCE), (env, status, busiest, fair)
        else:
            # (a rare status at prod's N: within 4 standard deviations of a fair coin)
            assert busiest <= fair + 4 * (fair * (1 - 1 / shards)) ** 0.5, (env, status, busiest, fair)
    # AND the statuses that carry the load (in transit: 70 %) are within the 5 % bound at every N
    assert totals["in_transit"] / shards >= WRITES_PER_SHARD_FOR_THE_5_PERCENT_BOUND
