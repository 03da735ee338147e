"""DynamoDB stream event source mappings, polled in this process (Lambda's pollers do it in AWS).

Each `AWS::Lambda::EventSourceMapping` of the template whose source is a table's stream gets a
thread that reads the stream from the emulator, applies the mapping's filter criteria and
batch size, invokes the function in-process, retries the records a partial batch response
reports (bisecting a batch whose invocation raised), and sends what is still failing after
`MaximumRetryAttempts` to the on-failure destination queue, as Lambda does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .functions import InProcessFunction
from .intrinsics import Resolver, ref_target

log = logging.getLogger("scripts.local")

EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
TABLE = "AWS::DynamoDB::Table"
POLL_INTERVAL_S = 0.25


@dataclass(frozen=True)
class StreamMapping:
    """What the template says about one table-stream-to-function mapping."""

    logical_id: str
    function: str  # logical id of the function
    table: str  # logical id of the table
    batch_size: int
    starting_position: str
    filters: tuple[Mapping[str, Any], ...]
    report_item_failures: bool
    max_retries: int  # -1: until the record expires
    bisect_on_error: bool
    on_failure: str | None  # logical id of the on-failure destination queue


def stream_mappings(resolver: Resolver) -> list[StreamMapping]:
    """The template's event source mappings that read a DynamoDB table's stream."""
    found = []
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") != EVENT_SOURCE_MAPPING:
            continue
        props = resource["Properties"]
        table = ref_target(props.get("EventSourceArn"))
        if resolver.resources.get(table or "", {}).get("Type") != TABLE:
            continue
        patterns = [f.get("Pattern") for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        found.append(
            StreamMapping(
                logical_id=logical_id,
                function=ref_target(props["FunctionName"]) or "",
                table=table or "",
                batch_size=int(resolver.resolve(props.get("BatchSize", 100))),
                starting_position=str(resolver.resolve(props.get("StartingPosition", "LATEST"))),
                filters=tuple(json.loads(p) if isinstance(p, str) else p for p in patterns if p),
                report_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                max_retries=int(resolver.resolve(props.get("MaximumRetryAttempts", -1))),
                bisect_on_error=bool(resolver.resolve(props.get("BisectBatchOnFunctionError", False))),
                on_failure=ref_target(destination) if destination else None,
            )
        )
    return found


def _matches_value(rule: Any, value: Any, present: bool) -> bool:
    if isinstance(rule, Mapping):
        if "exists" in rule:
            return present == bool(rule["exists"])
        if "prefix" in rule:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        if "anything-but" in rule:
            excluded = rule["anything-but"]
            return present and value not in (excluded if isinstance(excluded, list) else [excluded])
        return False
    return present and value == rule


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether a record matches one Lambda event-filtering pattern (values, prefix, exists, anything-but)."""
    for key, rule in pattern.items():
        present = isinstance(record, Mapping) and key in record
        value = record.get(key) if present else None
        if isinstance(rule, Mapping):
            if not (present and isinstance(value, Mapping) and matches(rule, value)):
                return False
        elif not any(_matches_value(r, value, present) for r in rule):
            return False
    return True


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    # The emulator's API answer, reshaped to the record Lambda delivers (epoch-second times).
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


class StreamPoller(threading.Thread):
    """Polls one mapping's stream and delivers its batches to the function until stopped."""

    def __init__(
        self,
        mapping: StreamMapping,
        function: InProcessFunction,
        clients: Callable[[str], Any],
        stream_arn: str,
        on_failure_queue_url: str | None,
    ) -> None:
        super().__init__(name=f"stream-{mapping.logical_id}", daemon=True)
        self.mapping = mapping
        self._function = function
        self._streams = clients("dynamodbstreams")
        self._sqs = clients("sqs")
        self._stream_arn = stream_arn
        self._queue_url = on_failure_queue_url
        self._iterators: dict[str, str | None] = {}
        self._stopped = threading.Event()
        self._drain_until: float | None = None  # monotonic deadline of a drain, once asked for
        self.delivered = 0
        self.undelivered = 0  # records a stop or a drain's deadline left behind (counted, never silent)

    def stop(self) -> None:
        """Ask the thread to finish its current batch and end."""
        self._stopped.set()

    def drain(self, timeout: float) -> None:
        """Ask the thread to end once the records already in the stream are delivered (TIMEOUT s at most)."""
        self._drain_until = time.monotonic() + timeout
        self._stopped.set()

    def prime(self) -> None:
        """Take the shard iterators now, so that LATEST means 'from when the API was ready'."""
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=self.mapping.starting_position,
                )["ShardIterator"]

    def run(self) -> None:
        """Poll until stopped (then drain, if asked); a failing poll is logged and retried, never fatal."""
        while not self._stopped.wait(POLL_INTERVAL_S):
            self._poll_safely()
        if self._drain_until is not None:
            self._drain()

    def _poll_safely(self) -> int:
        """One round over the shards; how many records it read (-1: the round failed)."""
        try:
            return self._poll_once()
        except Exception:  # the emulator may be shutting down; try again next round
            if not self._stopped.is_set() or self._drain_until is not None:
                log.exception("%s: polling the stream failed", self.mapping.logical_id)
            return -1

    def _drain(self) -> None:
        # Updates the API accepted before the stop are in the stream already: deliver rounds
        # until one finds nothing, then count what the deadline left.
        while time.monotonic() < (self._drain_until or 0):
            read = self._poll_safely()
            if read == 0:
                return
            if read < 0:
                time.sleep(POLL_INTERVAL_S)
        try:
            self.undelivered += self._count_left()
        except Exception:  # nothing more can be known about the stream
            log.exception("%s: counting the undelivered stream records failed", self.mapping.logical_id)

    def _read(self, shard_id: str, iterator: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """Read one page of a shard and move its iterator on: the records read, and those the filters pass."""
        answer = self._streams.get_records(ShardIterator=iterator, Limit=limit)
        self._iterators[shard_id] = answer.get("NextShardIterator")
        records = [_lambda_record(r, self._stream_arn) for r in answer.get("Records", [])]
        if self.mapping.filters:
            return len(records), [r for r in records if any(matches(p, r) for p in self.mapping.filters)]
        return len(records), records

    def _count_left(self) -> int:
        """Records still in the streams that the mapping would deliver (read, not delivered)."""
        left = 0
        for shard_id in list(self._iterators):
            while (iterator := self._iterators[shard_id]) is not None:
                read, records = self._read(shard_id, iterator, 1000)
                left += len(records)
                if not read:
                    break
        return left

    def _poll_once(self) -> int:
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            count, records = self._read(shard_id, iterator, self.mapping.batch_size)
            read += count
            if records:
                self._deliver(records, shard_id, self.mapping.max_retries)
        return read

    def _pause_before_retry(self) -> bool:
        """Wait before a retry; False when a stop (or a drain's deadline) leaves no time for one."""
        if not self._stopped.wait(POLL_INTERVAL_S):
            return True
        if self._drain_until is None or time.monotonic() + POLL_INTERVAL_S >= self._drain_until:
            return False
        time.sleep(POLL_INTERVAL_S)
        return True

    def _invoke(self, records: Sequence[dict[str, Any]]) -> tuple[int | None, bool]:
        """Index of the first record to retry (None: all done), and whether the function raised."""
        started = time.perf_counter()
        try:
            result = self._function.invoke({"Records": list(records)})
        except Exception:
            log.exception("%s raised on %d stream record(s)", self._function.config.name, len(records))
            return 0, True
        failures = (result or {}).get("batchItemFailures") if self.mapping.report_item_failures else None
        failed_ids = {f.get("itemIdentifier") for f in failures or []}
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        first = min((sequence.index(i) for i in failed_ids if i in sequence), default=None)
        if failed_ids and first is None:
            first = 0  # an identifier that is no record of the batch fails the whole batch, as in Lambda
        log.info(
            "%s: %d stream record(s), %d failed (%.1fms)",
            self._function.config.name, len(records), len(failed_ids), (time.perf_counter() - started) * 1000,
        )
        return first, False

    def _deliver(self, records: list[dict[str, Any]], shard_id: str, retries_left: int) -> None:
        attempts = 0
        while records:
            if attempts and not self._pause_before_retry():
                log.warning("%s: %d stream record(s) left undelivered by the stop", self._function.config.name, len(records))
                self.undelivered += len(records)
                return
            first_failed, raised = self._invoke(records)
            attempts += 1
            if first_failed is None:
                self.delivered += len(records)
                return
            self.delivered += first_failed
            records = records[first_failed:]
            if raised and self.mapping.bisect_on_error and len(records) > 1:
                half = len(records) // 2
                remaining = retries_left - 1 if retries_left > 0 else retries_left
                self._deliver(records[:half], shard_id, remaining)
                self._deliver(records[half:], shard_id, remaining)
                return
            if retries_left >= 0 and attempts > retries_left:
                self._send_to_destination(records, shard_id, attempts)
                return

    def _send_to_destination(self, records: list[dict[str, Any]], shard_id: str, attempts: int) -> None:
        log.warning("%s: %d stream record(s) failed %d times", self._function.config.name, len(records), attempts)
        if self._queue_url is None:
            return
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        # The invocation record Lambda sends to an on-failure destination for stream sources.
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._function.config.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": ""},
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(records),
                "streamArn": self._stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message, default=str))
