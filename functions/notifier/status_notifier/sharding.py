"""Where a shipment's current state lives in the listing index: its shard key and its rank.

The listing index spreads each status over `shards` partition keys (`"<status>#<n>"`), n from
a stable hash of the tracking id, so no status is one hot partition: a status takes about
`shards` x 1,000 writes/s. Within a key, items sort by rank: the update's timestamp (epoch ms)
in the high bits and the same hash in the low 64, so two shipments updated in the same
millisecond still have distinct ranks and a page can resume strictly below a rank.

Pure and import-light: the stream function writes with it; tests and docs check its spread.
"""

from __future__ import annotations

import hashlib

HASH_BITS = 64
SEPARATOR = "#"


def tracking_hash(tracking_id: str) -> int:
    """A stable 64-bit hash of a tracking id (BLAKE2b: the same in every process and release)."""
    # str.encode's default is UTF-8 and int.from_bytes' is big-endian (3.11+): both are fixed.
    digest = hashlib.blake2b(tracking_id.encode(), digest_size=HASH_BITS // 8).digest()
    return int.from_bytes(digest)


def shard_of(tracking_id: str, shards: int) -> int:
    """The shard (0..shards-1) a shipment's current state is written to."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return tracking_hash(tracking_id) % shards


def shard_key(status: str, shard: int) -> str:
    """The listing index's partition key for one shard of one status."""
    return f"{status}{SEPARATOR}{shard}"


def rank(timestamp: int, tracking_id: str) -> int:
    """The listing index's sort key: newer updates rank higher; the hash breaks same-ms ties."""
    if timestamp < 0:
        raise ValueError(f"timestamp must not be negative, not {timestamp}")
    return (timestamp << HASH_BITS) | tracking_hash(tracking_id)

# The state table's attributes the listing index is keyed on (the template declares them).
SHARD_ATTRIBUTE = "listing_shard"
RANK_ATTRIBUTE = "listing_rank"
