"""Retries: what a flaky network needs, always under one Idempotency-Key for a POST. A stdlib HTTP
server in a thread plays the flaky API (the local API never fails on purpose)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import pytest

from tests.scripts.local.support import free_port
from tracking_client import ApiError, ApiUnreachable, RetryPolicy, TrackingClient

STORED = {"message": "Tracking update stored", "tracking_id": "R-1", "timestamp": 1}


class FlakyApi:
    """Answers each request with the next (status, body) of a script and records what it got."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict]] = []
        self.requests: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": self.rfile.read(length)})
                status, body = api.script.pop(0) if api.script else (200, STORED)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dev"


@pytest.fixture
def api() -> Iterator[FlakyApi]:
    flaky = FlakyApi()
    thread = threading.Thread(target=flaky.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield flaky
    flaky.server.shutdown()
    flaky.server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(url: str, sleeps: list[float], attempts: int = 3) -> TrackingClient:
    session = botocore.session.Session()
    session.set_credentials("testing", "testing")
    return TrackingClient(url, session, "us-east-1", retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append))


def test_post_retried_after_503_with_the_same_key_and_a_fresh_signature(api: FlakyApi, sleeps: list[float]) -> None:
    # GIVEN an API that fails once, then stores
    api.script = [(503, {"message": "Service Unavailable"})]
    # WHEN one update is tracked
    answer = make_client(api.url, sleeps).track("R-1", "pending", 1, 2)
    # THEN two identical, signed POSTs carried one Idempotency-Key, and the second answer is returned
    assert answer == STORED
    assert [r["method"] for r in api.requests] == ["POST", "POST"]
    keys = {r["headers"]["Idempotency-Key"] for r in api.requests}
    assert len(keys) == 1 and len(keys.pop()) == 36  # a UUID
    assert api.requests[0]["body"] == api.requests[1]["body"] == (
        b'{"tracking_id":"R-1","status":"pending","location":{"lat":1,"lng":2}}')
    for request in api.requests:
        authorization = request["headers"]["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert "/us-east-1/execute-api/aws4_request" in authorization
        assert "idempotency-key" in authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.1


def test_each_track_call_has_its_own_key_unless_one_is_given(api: FlakyApi, sleeps: list[float]) -> None:
    client = make_client(api.url, sleeps)
    # WHEN two calls get fresh keys and a third reuses a chosen one
    client.track("R-1", "pending", 1, 2)
    client.track("R-1", "pending", 1, 2)
    client.track("R-1", "pending", 1, 2, idempotency_key="order-42-update-1")
    # THEN the first two differ and the third is the one given
    keys = [r["headers"]["Idempotency-Key"] for r in api.requests]
    assert keys[0] != keys[1] and keys[2] == "order-42-update-1"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried_up_to_the_limit(api: FlakyApi, sleeps: list[float], status: int) -> None:
    # GIVEN an API that keeps failing with STATUS
    api.script = [(status, {"message": "busy"})] * 3
    # WHEN a page is asked for  # THEN three attempts, two waits, and the last answer's reason
    with pytest.raises(ApiError) as raised:
        list(make_client(api.url, sleeps).status("R-1"))
    assert (raised.value.status, raised.value.reason) == (status, "busy")
    assert len(api.requests) == 3 and len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2


@pytest.mark.parametrize("status, body, reason", [
    (400, {"error": "location.lat must be number"}, "location.lat must be number"),
    (403, {"message": "Missing Authentication Token"}, "Missing Authentication Token"),
    (422, {"error": "Idempotency-Key reused with another body"}, "Idempotency-Key reused with another body"),
])
def test_client_errors_are_not_retried(api: FlakyApi, sleeps: list[float], status: int, body: dict, reason: str) -> None:
    api.script = [(status, body)]
    with pytest.raises(ApiError) as raised:
        make_client(api.url, sleeps).track("R-1", "pending", 1, 2)
    assert (raised.value.status, raised.value.reason, raised.value.body) == (status, reason, body)
    assert len(api.requests) == 1 and sleeps == []


def test_refused_connection_is_retried_then_unreachable(sleeps: list[float]) -> None:
    # GIVEN a port where nothing listens
    url = f"http://127.0.0.1:{free_port()}/dev"
    # WHEN an update is tracked  # THEN three attempts, then one error naming the URL
    with pytest.raises(ApiUnreachable) as raised:
        make_client(url, sleeps).track("R-1", "pending", 1, 2)
    assert str(raised.value) == f'Could not connect to the endpoint URL: "{url}/track" (after 3 attempts)'
    assert len(sleeps) == 2


def test_pages_follow_next_key_with_the_same_query(api: FlakyApi, sleeps: list[float]) -> None:
    # GIVEN two pages, the first failing once on the way
    api.script = [
        (200, {"status": "pending", "shipments": [{"tracking_id": "a"}], "count": 1, "next_key": "K+/="}),
        (500, {"error": "Internal server error"}),
        (200, {"status": "pending", "shipments": [{"tracking_id": "b"}], "count": 1}),
    ]
    # WHEN every shipment is listed
    listed = [s["tracking_id"] for s in make_client(api.url, sleeps).shipments("pending", limit=1)]
    # THEN both pages, the token sent back encoded as last_key, the failed page asked again
    assert listed == ["a", "b"]
    assert [r["path"] for r in api.requests] == [
        "/dev/shipments?status=pending&limit=1",
        "/dev/shipments?status=pending&limit=1&last_key=K%2B%2F%3D",
        "/dev/shipments?status=pending&limit=1&last_key=K%2B%2F%3D",
    ]


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.5)
    delays = [policy.delay(attempt) for attempt in (0, 1, 2, 10) for _ in range(200)]
    assert all(0 <= d <= 0.5 for d in delays)
    assert max(policy.delay(0) for _ in range(200)) <= 0.1
    assert len(set(delays)) > 100  # jitter: clients that failed together do not retry together


def test_a_post_without_an_idempotency_key_is_never_repeated(api: FlakyApi, sleeps: list[float]) -> None:
    # GIVEN the client's transport, and an API failing once
    from botocore.credentials import Credentials

    from tracking_client.transport import Transport

    api.script = [(503, {"message": "Service Unavailable"})]
    transport = Transport(lambda: Credentials("testing", "testing"), "us-east-1",
                          retry=RetryPolicy(sleep=sleeps.append))
    # WHEN a POST goes without the key  # THEN one attempt: repeating it could store the update twice
    with pytest.raises(ApiError):
        transport.send("POST", f"{api.url}/track", body={"tracking_id": "R-1"})
    assert len(api.requests) == 1 and sleeps == []
