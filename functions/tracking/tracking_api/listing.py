"""GET /shipments: a page of the shipments whose latest update has one status, newest first.

The stream function keeps one item per shipment in the state table, and its index spreads each
status over N partition keys ("<status>#<n>", status_notifier/sharding.py writes them) sorted
by rank (the update's epoch ms, then a hash). A page queries the N keys in parallel, each below
its position in the page token, and merges them newest first (`merge`, pure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .listing_token import EXHAUSTED
from .response_size import PAGE_BUDGET_BYTES, fitting
from .storage import run_query

if TYPE_CHECKING:
    from botocore.client import BaseClient

# The index's key attributes and key format: status_notifier/sharding.py writes them, and
# tests/functions/tracking/test_listing.py checks that the two sides agree.
SHARD_ATTRIBUTE = "listing_shard"
RANK_ATTRIBUTE = "listing_rank"
# What an entry of the listing shows: the latest update, without the index's own keys.
ENTRY_FIELDS = ("tracking_id", "status", "timestamp", "location", "metadata")


def shard_key(status: str, shard: int) -> str:
    """The index's partition key for one shard of one status."""
    return f"{status}#{shard}"


@dataclass(frozen=True)
class ShardAnswer:
    """One shard's query: its items (newest first, with their ranks) and whether it stopped early."""

    items: Sequence[Mapping[str, Any]]
    more: bool  # DynamoDB returned a LastEvaluatedKey: items below the last one may remain


@dataclass(frozen=True)
class ListingPage:
    """The page's entries and where each shard stands after it (None: the listing is done)."""

    items: list[dict[str, Any]]
    positions: tuple[int, ...] | None


def merge(
    positions: Sequence[int], answers: Mapping[int, ShardAnswer], limit: int, budget: int = PAGE_BUDGET_BYTES
) -> ListingPage:
    """Merge the shards' answers into one page of at most `limit`, newest first, and new positions.

    The page also stops before its entries pass `budget` bytes of the response (response_size.py);
    what did not fit starts the next page.

    Each shard was asked for limit + 1 items, so a shard with more left always shows it (`more`).
    A shard that stopped early (DynamoDB's 1 MB cap) may hide items ranked just below its last
    one, so nothing ranked below that can be listed yet: it waits for the next page.
    """
    ranked = sorted(
        ((item[RANK_ATTRIBUTE], shard, item) for shard, answer in answers.items() for item in answer.items),
        key=lambda entry: entry[0],
        reverse=True,
    )
    cutoff = max(
        (answer.items[-1][RANK_ATTRIBUTE] for answer in answers.values() if answer.more and answer.items),
        default=None,
    )
    if cutoff is not None:
        ranked = [entry for entry in ranked if entry[0] >= cutoff]
    taken = ranked[:limit]
    entries = [{name: item[name] for name in ENTRY_FIELDS if name in item} for _, _, item in taken]
    kept = fitting(entries, budget)
    taken, entries = taken[:kept], entries[:kept]
    after = list(positions)
    for shard, answer in answers.items():
        ranks = [rank for rank, source, _ in taken if source == shard]
        if not answer.more and len(ranks) == len(answer.items):
            after[shard] = EXHAUSTED  # everything it had is on this page or before
        elif ranks:
            after[shard] = min(ranks)  # resume strictly below the last one listed
    done = all(position == EXHAUSTED for position in after)
    return ListingPage(items=entries, positions=None if done else tuple(after))


@lru_cache(maxsize=None)
def _pool(workers: int) -> ThreadPoolExecutor:
    # Kept for the life of the execution environment: warm requests reuse the threads.
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="listing")


class ShipmentListing:
    """Reads one status's listing from the state table's index through a low-level client."""

    def __init__(self, client: BaseClient, table_name: str, index_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self._index_name = index_name

    def _query(self, key: str, below: int, limit: int) -> ShardAnswer:
        items, last = run_query(self._client, {
            "TableName": self._table_name,
            "IndexName": self._index_name,
            "KeyConditionExpression": "#shard = :shard AND #rank < :below",
            "ExpressionAttributeNames": {"#shard": SHARD_ATTRIBUTE, "#rank": RANK_ATTRIBUTE},
            "ExpressionAttributeValues": {":shard": {"S": key}, ":below": {"N": str(below)}},
            "ScanIndexForward": False,
            # One more than the page: a shard with more left says so without a LastEvaluatedKey
            # on its very last item (DynamoDB returns one whenever it stops at Limit).
            "Limit": limit + 1,
        })
        for item in items:
            item[RANK_ATTRIBUTE] = int(item[RANK_ATTRIBUTE])
        return ShardAnswer(items=items, more=last is not None)

    def page(self, status: str, limit: int, positions: Sequence[int]) -> ListingPage:
        """Up to `limit` shipments currently in `status`, newest first, after `positions`."""
        live = [shard for shard, position in enumerate(positions) if position != EXHAUSTED]
        futures = {
            shard: _pool(len(positions)).submit(self._query, shard_key(status, shard), positions[shard], limit)
            for shard in live
        }
        answers = {shard: future.result() for shard, future in futures.items()}
        return merge(positions, answers, limit)
