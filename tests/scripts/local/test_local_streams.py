"""Stream event source mappings run locally: template reading, filters, retries, on-failure queue."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest

from scripts.local.gateway.functions import FunctionConfig, InProcessFunction
from scripts.local.gateway.streams import StreamMapping, StreamPoller, matches, stream_mappings

from .support import isolated_environ
from .test_local_routes import real_template, resolver_for

FAILING_HANDLER = '''
CALLS = []

def main(event, context):
    CALLS.append([r["dynamodb"]["Keys"]["k"]["S"] for r in event["Records"]])
    failures = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["Keys"]["k"]["S"].startswith("bad")]
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failures]}
'''


@pytest.fixture(scope="module", autouse=True)
def _restore_environ() -> Iterator[None]:
    """The functions invoked here set Lambda variables in os.environ; other tests must not see them."""
    with isolated_environ():
        yield


def test_mapping_is_read_from_the_template() -> None:
    # GIVEN the real template  # WHEN its stream mappings are read
    template = real_template()
    (mapping,) = stream_mappings(resolver_for(template))
    props = template["Resources"][mapping.logical_id]["Properties"]
    # THEN the function, table, batching, retries and destination are the template's
    assert template["Resources"][mapping.function]["Type"] == "AWS::Lambda::Function"
    assert template["Resources"][mapping.table]["Type"] == "AWS::DynamoDB::Table"
    assert template["Resources"][mapping.on_failure]["Type"] == "AWS::SQS::Queue"
    assert (mapping.batch_size, mapping.max_retries) == (props["BatchSize"], props["MaximumRetryAttempts"])
    assert mapping.report_item_failures and mapping.bisect_on_error
    assert mapping.filters == tuple(json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"])


@pytest.mark.parametrize(
    "pattern, record, expected",
    [
        ({"eventName": ["INSERT"]}, {"eventName": "INSERT"}, True),
        ({"eventName": ["INSERT"]}, {"eventName": "MODIFY"}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": ["delivered", "failed"]}}}},
         {"dynamodb": {"NewImage": {"status": {"S": "failed"}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["delivered"]}}}}, {"dynamodb": {"OldImage": {}}}, False),
        ({"eventName": [{"prefix": "INS"}]}, {"eventName": "INSERT"}, True),
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, {"eventName": "REMOVE"}, False),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, {"dynamodb": {"NewImage": {}}}, True),
    ],
)
def test_filter_patterns(pattern: dict, record: dict, expected: bool) -> None:
    # GIVEN a Lambda event-filtering pattern  # WHEN matched  # THEN as Lambda filters records
    assert matches(pattern, record) is expected


@pytest.fixture
def stream_table(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[boto3.Session, str, str, str]]:
    """A table with a stream and a queue in a fresh moto server; yields session, table, stream ARN, queue URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    session = boto3.Session(region_name="us-east-1")
    dynamodb = session.client("dynamodb")
    table = dynamodb.create_table(
        TableName="stream-test", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    queue_url = session.client("sqs").create_queue(QueueName="on-failure")["QueueUrl"]
    yield session, "stream-test", table["LatestStreamArn"], queue_url


def _mapping(max_retries: int) -> StreamMapping:
    return StreamMapping("M", "Fn", "T", batch_size=10, starting_position="LATEST", filters=({"eventName": ["INSERT"]},),
                         report_item_failures=True, max_retries=max_retries, bisect_on_error=True, on_failure="Q")


def test_failed_records_are_retried_then_sent_to_the_destination(stream_table, tmp_path) -> None:
    session, table, stream_arn, queue_url = stream_table
    # GIVEN a function that reports records whose key starts with "bad" as failed, mapped with 2 retries
    (tmp_path / "handler.py").write_text(FAILING_HANDLER, encoding="utf-8")
    function = InProcessFunction(FunctionConfig("StreamTestFn", "stream-fn", "arn:aws:lambda:us-east-1:123456789012:"
                                                "function:stream-fn", "handler.main", tmp_path, {}), "us-east-1")
    poller = StreamPoller(_mapping(max_retries=2), function, session.client, stream_arn, queue_url)
    poller.prime()
    dynamodb = session.client("dynamodb")
    # WHEN one good, one bad and one later good record are written, and one is modified (filtered out)
    for key in ("good-1", "bad-1", "good-2"):
        dynamodb.put_item(TableName=table, Item={"k": {"S": key}})
    dynamodb.put_item(TableName=table, Item={"k": {"S": "good-1"}, "v": {"S": "changed"}})
    poller._poll_once()
    # THEN the batch ran once, then from the first failed record again for each retry
    calls = function._entry.__globals__["CALLS"]
    assert calls == [["good-1", "bad-1", "good-2"], ["bad-1", "good-2"], ["bad-1", "good-2"]]
    # AND the records still failing went to the on-failure queue as Lambda's invocation record
    (message,) = session.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["DDBStreamBatchInfo"]["batchSize"] == 2
    assert body["DDBStreamBatchInfo"]["streamArn"] == stream_arn
    assert poller.delivered == 1


def test_poller_thread_delivers_and_stops(stream_table, tmp_path) -> None:
    session, table, stream_arn, queue_url = stream_table
    # GIVEN a running poller whose function succeeds
    (tmp_path / "handler.py").write_text(FAILING_HANDLER, encoding="utf-8")
    function = InProcessFunction(FunctionConfig("StreamTestFn2", "stream-fn-2", "arn:aws:lambda:us-east-1:"
                                                "123456789012:function:stream-fn-2", "handler.main", tmp_path, {}),
                                 "us-east-1")
    poller = StreamPoller(_mapping(max_retries=0), function, session.client, stream_arn, queue_url)
    poller.prime()
    poller.start()
    try:
        # WHEN a record is written
        session.client("dynamodb").put_item(TableName=table, Item={"k": {"S": "good-9"}})
        deadline = time.monotonic() + 5
        while poller.delivered < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
        poller.join(5)
    # THEN it was delivered in the background, and the thread ended on stop
    assert poller.delivered == 1
    assert not poller.is_alive()


def _poller(session: boto3.Session, stream_arn: str, queue_url: str, tmp_path, name: str,
            max_retries: int) -> tuple[StreamPoller, InProcessFunction]:
    (tmp_path / "handler.py").write_text(FAILING_HANDLER, encoding="utf-8")
    function = InProcessFunction(FunctionConfig(f"StreamTest{name}", f"stream-{name}", "arn:aws:lambda:us-east-1:"
                                                f"123456789012:function:stream-{name}", "handler.main", tmp_path, {}),
                                 "us-east-1")
    poller = StreamPoller(_mapping(max_retries=max_retries), function, session.client, stream_arn, queue_url)
    poller.prime()
    return poller, function


def test_drain_delivers_the_records_already_in_the_stream(stream_table, tmp_path) -> None:
    session, table, stream_arn, queue_url = stream_table
    # GIVEN a running poller, and records written just before the stop (as the API's last updates are)
    poller, function = _poller(session, stream_arn, queue_url, tmp_path, "drain", max_retries=0)
    poller.start()
    for n in range(5):
        session.client("dynamodb").put_item(TableName=table, Item={"k": {"S": f"good-{n}"}})
    # WHEN it is drained rather than stopped
    poller.drain(5)
    poller.join(10)
    # THEN every record reached the function before the thread ended, and nothing is counted lost
    assert not poller.is_alive()
    assert sorted(k for call in function._entry.__globals__["CALLS"] for k in call) == [f"good-{n}" for n in range(5)]
    assert (poller.delivered, poller.undelivered) == (5, 0)


def test_drain_counts_what_its_deadline_leaves_undelivered(stream_table, tmp_path) -> None:
    session, table, stream_arn, queue_url = stream_table
    # GIVEN a poller whose function fails every record (retried until they expire), 12 records in the
    # stream (more than one batch of 10) and a modification the filter drops
    poller, function = _poller(session, stream_arn, queue_url, tmp_path, "deadline", max_retries=-1)
    dynamodb = session.client("dynamodb")
    for n in range(12):
        dynamodb.put_item(TableName=table, Item={"k": {"S": f"bad-{n}"}})
    dynamodb.put_item(TableName=table, Item={"k": {"S": "bad-0"}, "v": {"S": "changed"}})
    poller.start()
    # WHEN it is drained with 1 s to do it
    started = time.monotonic()
    poller.drain(1.0)
    poller.join(10)
    # THEN it gave up at the deadline and counted all 12 (the retried batch and the unread rest)
    assert not poller.is_alive() and time.monotonic() - started < 5
    assert (poller.delivered, poller.undelivered) == (0, 12)
    assert function._entry.__globals__["CALLS"], "the function was tried"
