"""The local API's HTTP front over real sockets: framing, limits, timeouts, bursts, disconnects, shutdown."""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from scripts.local.gateway.gateway import HttpRequest, HttpResponse
from scripts.local.gateway.server import (
    HEADER_LIMIT,
    PAYLOAD_LIMIT,
    LocalApiServer,
    StopReport,
    configure_server_logging,
)


class EchoGateway:
    """Answers every request with its body, and remembers what it was handed."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.requests: list[HttpRequest] = []
        self.delay_s = delay_s

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        time.sleep(self.delay_s)
        return HttpResponse(200, (("Content-Type", "application/octet-stream"),), request.body)


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What the server logs (waitress's records and the request lines), as scripts.local prints them."""
    stream = io.StringIO()
    request_log = logging.getLogger("scripts.local")
    request_handler = logging.StreamHandler(stream)
    saved = (request_log.level, request_log.propagate)
    request_log.addHandler(request_handler)
    request_log.setLevel(logging.INFO)
    configure_server_logging(logging.StreamHandler(stream))
    yield stream
    request_log.removeHandler(request_handler)
    request_log.setLevel(saved[0])
    logging.getLogger("waitress").handlers = []


def serve(gateway: EchoGateway, **options: object) -> LocalApiServer:
    server = LocalApiServer(("127.0.0.1", 0), gateway, **options)  # type: ignore[arg-type] - duck-typed gateway
    server.start()
    return server


@pytest.fixture
def served(server_log: io.StringIO) -> Iterator[tuple[LocalApiServer, EchoGateway]]:
    gateway = EchoGateway()
    server = serve(gateway)
    try:
        yield server, gateway
    finally:
        server.shutdown(grace=1)


def exchange(server: LocalApiServer, raw: bytes, half_close: bool = False) -> bytes:
    """Send raw bytes on one connection; everything the server answers until it is quiet or closes."""
    with socket.create_connection(server.server_address[:2], timeout=2) as conn:
        conn.sendall(raw)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
                if received.count(b"HTTP/1.1 ") >= 2 or b"Connection: close" in received:
                    conn.settimeout(0.3)
        except socket.timeout:
            pass
    return received


def status_and_json(received: bytes) -> tuple[bytes, object]:
    head, _, body = received.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], json.loads(body)


def still_serving(server: LocalApiServer) -> bool:
    received = exchange(server, b"GET /dev/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return received.startswith(b"HTTP/1.1 200")


def post_in_progress(server: LocalApiServer) -> socket.socket:
    """A connection whose POST the server has received in full (and is answering)."""
    conn = socket.create_connection(server.server_address[:2], timeout=5)
    conn.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
    time.sleep(0.1)
    return conn


def stop_in_background(server: LocalApiServer, grace: float) -> tuple[threading.Thread, list[StopReport]]:
    """Start the server's shutdown in a thread; its report lands in the list."""
    reports: list[StopReport] = []
    stopping = threading.Thread(target=lambda: reports.append(server.shutdown(grace=grace)))
    stopping.start()
    time.sleep(0.1)
    return stopping, reports


def read_until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends on CONN until it closes it."""
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    conn.close()
    return received


def test_chunked_body_reaches_the_gateway_and_the_connection_stays_in_step(served) -> None:
    # GIVEN a POST whose body is sent with chunked transfer coding, then a GET on the same connection
    server, gateway = served
    raw = (
        b"POST /dev/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7;ext=1\r\n{\"a\":1}\r\n3\r\n,23\r\n0\r\nX-Trailer: t\r\n\r\n"
        b"GET /dev/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    )
    # WHEN both are sent
    received = exchange(server, raw)
    # THEN the gateway got the whole de-chunked body, and the GET was served as the second request
    assert [(r.method, r.raw_path, r.body) for r in gateway.requests] == [
        ("POST", "/dev/track", b'{"a":1},23'),
        ("GET", "/dev/status", b""),
    ]
    assert received.count(b"HTTP/1.1 200") == 2 and b"400" not in received


@pytest.mark.parametrize(
    "framing",
    [
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",  # size not hex
        b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",  # chunk longer than said
        b"Transfer-Encoding: gzip\r\n\r\nabc",  # a coding the server cannot frame
        b"Content-Length: -3\r\n\r\nabc",
    ],
)
def test_unframeable_body_is_a_400_and_closes_the_connection(served, framing: bytes) -> None:
    # GIVEN a POST whose body cannot be framed, followed by bytes that look like a request
    server, gateway = served
    raw = b"POST /dev/track HTTP/1.1\r\nHost: x\r\n" + framing + b"GET /dev/x HTTP/1.1\r\nHost: x\r\n\r\n"
    # WHEN it is sent
    received = exchange(server, raw)
    # THEN one 400 closes the connection; nothing reached the gateway, no leftover byte was served
    assert received.startswith(b"HTTP/1.1 400") and received.count(b"HTTP/1.1 ") == 1
    assert gateway.requests == []


def test_headers_and_raw_path_reach_the_gateway_as_sent(served) -> None:
    # GIVEN a request with an encoded path, a query and a few headers
    server, gateway = served
    raw = (b"GET /dev/status%20x?tracking_id=A%2BB&x= HTTP/1.1\r\nHost: h:1\r\nX-Amz-Date: 20250101T000000Z\r\n"
           b"content-type: application/json\r\nConnection: close\r\n\r\n")
    # WHEN it is served
    assert exchange(server, raw).startswith(b"HTTP/1.1 200")
    # THEN the gateway saw the request target byte for byte (the signature covers it) and the headers
    (request,) = gateway.requests
    assert request.raw_path == "/dev/status%20x?tracking_id=A%2BB&x="
    assert (request.header("host"), request.header("x-amz-date")) == ("h:1", "20250101T000000Z")
    assert request.header("Content-Type") == "application/json"
    assert (request.source_ip, request.protocol) == ("127.0.0.1", "HTTP/1.1")


def test_body_that_never_fully_arrives_is_never_processed(served) -> None:
    # GIVEN a POST announcing 60 bytes that sends 20, then half-closes its side
    server, gateway = served
    raw = b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n" + b'{"tracking_id": "X"}'
    # WHEN it is sent
    received = exchange(server, raw, half_close=True)
    # THEN nothing reached the gateway and no answer claims otherwise; the server serves on
    assert gateway.requests == []
    assert received == b""
    assert still_serving(server)


@pytest.mark.parametrize("expect", [b"", b"Expect: 100-continue\r\n"], ids=["plain", "expect-100-continue"])
def test_body_over_the_limit_is_413_before_a_byte_of_it_is_sent(served, expect: bytes) -> None:
    # GIVEN a POST announcing 11 MB (API Gateway REST takes 10 MB), asking first whether to send it or not
    server, gateway = served
    with socket.create_connection(server.server_address, timeout=5) as conn:
        conn.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n" % (expect, 11 * 1024 * 1024))
        # WHEN only the head has been sent  # THEN the answer is already there: 413, API Gateway's JSON
        received = b""
        while b"}" not in received and (chunk := conn.recv(65536)):
            received += chunk
    status, body = status_and_json(received)
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert body == {"message": "Request Too Long"}
    assert b"Connection: close" in received
    assert gateway.requests == []


def test_client_sending_an_oversized_body_eagerly_still_reads_the_413(served) -> None:
    # GIVEN a client that sends its 11 MB body right behind the head, as http.client does
    server, gateway = served
    connection = http.client.HTTPConnection(*server.server_address, timeout=10)
    # WHEN it posts and then reads the answer
    connection.request("POST", "/dev/track", body=b"x" * (11 * 1024 * 1024))
    response = connection.getresponse()
    # THEN the answer is the 413 (not a connection reset), and nothing reached the gateway
    assert (response.status, json.loads(response.read())) == (413, {"message": "Request Too Long"})
    connection.close()
    assert gateway.requests == []


def test_body_of_exactly_the_limit_reaches_the_gateway(served) -> None:
    # GIVEN a POST of exactly 10 MB (10485760 bytes)
    server, gateway = served
    body = b"x" * PAYLOAD_LIMIT
    # WHEN it is sent in full
    with socket.create_connection(server.server_address, timeout=30) as conn:
        conn.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
                     + body)
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    # THEN the gateway got all of it
    assert status_line == b"HTTP/1.1 200 OK"
    assert [len(r.body) for r in gateway.requests] == [PAYLOAD_LIMIT]


@pytest.mark.parametrize(
    "lengths, status",
    [
        ([b"1000000000000000"], b"413"),
        ([b"1" + b"0" * 30], b"413"),
        ([b"8_3"], b"400"),
        ([b"+5"], b"400"),
        ([b"0x10"], b"400"),
        ([b"5", b"6"], b"400"),  # two different lengths
        ([b"5, 5"], b"400"),
    ],
)
def test_absurd_or_malformed_content_length_is_4xx_and_the_server_stays_up(served, lengths, status) -> None:
    # GIVEN a POST whose Content-Length is absurdly large, not a plain number, or given twice
    server, gateway = served
    head = b"".join(b"Content-Length: " + value + b"\r\n" for value in lengths)
    # WHEN it is sent
    received = exchange(server, b"POST /dev/track HTTP/1.1\r\nHost: x\r\n" + head + b"\r\nhello")
    # THEN one JSON 4xx answer, nothing reached the gateway, and the server still serves
    assert received.startswith(b"HTTP/1.1 " + status) and received.count(b"HTTP/1.1 ") == 1
    assert "message" in status_and_json(received)[1]
    assert gateway.requests == []
    assert still_serving(server)


def test_content_length_with_chunked_is_one_400_and_nothing_is_smuggled(served) -> None:
    # GIVEN a POST with both Content-Length and chunked coding, whose chunked reading leaves a GET behind
    server, gateway = served
    raw = (b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"0\r\n\r\nGET /dev/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    # WHEN it is sent
    received = exchange(server, raw)
    # THEN one 400 saying why, the connection closes, and no request reached the gateway
    status, body = status_and_json(received)
    assert status == b"HTTP/1.1 400 Bad Request" and received.count(b"HTTP/1.") == 1
    assert body == {"message": "Bad Request: Content-Length together with Transfer-Encoding"}
    assert gateway.requests == []


def test_transfer_encoding_in_http_1_0_is_a_400(served) -> None:
    # GIVEN an HTTP/1.0 request with chunked coding (1.0 has none: the length would be read two ways)
    server, gateway = served
    raw = (b"POST /dev/track HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
           b"0\r\n\r\n")
    # WHEN sent  # THEN refused with the reason, nothing reached the gateway
    status, body = status_and_json(exchange(server, raw))
    assert (status, body) == (b"HTTP/1.0 400 Bad Request", {"message": "Bad Request: Transfer-Encoding in an HTTP/1.0 request"})
    assert gateway.requests == []


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE", b"GET /dev/status HTTP/9.9", b"GET /dev/status HTTP/1.1 trailing", b"get /dev/status HTTP/1.1",
     b"GET /dev/status"],
)
def test_malformed_request_line_gets_an_http_status_line(served, request_line: bytes) -> None:
    # GIVEN a request whose first line is not HTTP/1.x  # WHEN sent
    server, gateway = served
    received = exchange(server, request_line + b"\r\nHost: x\r\n\r\n")
    # THEN a proper HTTP answer: status line, 400, JSON reason; nothing reached the gateway
    status, body = status_and_json(received)
    assert status in (b"HTTP/1.0 400 Bad Request", b"HTTP/1.1 400 Bad Request")
    assert body["message"].startswith("Bad Request: ")
    assert gateway.requests == []


def test_headers_over_the_limit_are_431(served) -> None:
    # GIVEN a request head that reaches the server's bound without ending (all of it is read: no reset)
    server, gateway = served
    head = b"GET /dev/status HTTP/1.1\r\nHost: x\r\nX-Big: "
    # WHEN sent
    received = exchange(server, head + b"a" * (HEADER_LIMIT - len(head)))
    # THEN 431 without waiting for the rest, nothing reached the gateway
    status, body = status_and_json(received)
    assert status in (b"HTTP/1.0 431 Request Header Fields Too Large", b"HTTP/1.1 431 Request Header Fields Too Large")
    assert body == {"message": "Request Header Fields Too Large: exceeds max_header of 65536"}
    assert gateway.requests == []


def test_burst_of_64_new_connections_three_times_is_all_served(served) -> None:
    # GIVEN 64 clients that open their connections at the same moment, three rounds in a row
    server, gateway = served
    answers: list[bytes] = []
    lock = threading.Lock()

    def client(barrier: threading.Barrier, n: int) -> None:
        barrier.wait()
        try:
            received = exchange(server, b"GET /dev/status?n=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
        except OSError as error:  # a refused or reset connection is what this test is about
            received = repr(error).encode()
        with lock:
            answers.append(received.split(b"\r\n", 1)[0])

    for _ in range(3):
        barrier = threading.Barrier(64)
        threads = [threading.Thread(target=client, args=(barrier, n)) for n in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    # THEN every one of the 192 connections got its 200
    assert answers == [b"HTTP/1.1 200 OK"] * 192
    assert len(gateway.requests) == 192


def test_client_that_vanishes_costs_one_log_line_not_a_traceback(server_log: io.StringIO) -> None:
    # GIVEN a server whose answer takes a moment
    gateway = EchoGateway(delay_s=0.3)
    server = serve(gateway)
    try:
        # WHEN a client sends a request and resets its connection before the answer
        conn = socket.create_connection(server.server_address, timeout=2)
        conn.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        time.sleep(0.1)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        conn.close()
        time.sleep(0.6)
        # THEN the server goes on serving
        assert still_serving(server)
    finally:
        server.shutdown(grace=1)
    # AND the log has no traceback: the request's own line, and at most one line about the client
    lines = server_log.getvalue().splitlines()
    assert "Traceback" not in server_log.getvalue()
    assert [line for line in lines if line.startswith("POST")] == [lines[0]] and lines[0].startswith("POST /dev/track 200")
    assert len([line for line in lines if line.startswith("http: ")]) <= 1


def test_idle_and_half_sent_connections_are_closed(server_log: io.StringIO) -> None:
    # GIVEN a server with a 1 s idle timeout, a connection that sent half a request and one that sent nothing
    gateway = EchoGateway()
    server = serve(gateway, idle_timeout=1)
    try:
        half = socket.create_connection(server.server_address, timeout=10)
        half.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        idle = socket.create_connection(server.server_address, timeout=10)
        started = time.monotonic()
        # WHEN they say nothing more  # THEN the server closes both within a few seconds
        assert half.recv(1024) == b"" and idle.recv(1024) == b""
        assert time.monotonic() - started < 8
        half.close()
        idle.close()
    finally:
        server.shutdown(grace=1)
    assert gateway.requests == []


def test_shutdown_finishes_requests_in_progress_and_refuses_new_connections(server_log: io.StringIO) -> None:
    # GIVEN a request in progress (its answer takes 0.5 s)
    server = serve(EchoGateway(delay_s=0.5))
    conn = post_in_progress(server)
    # WHEN the server is shut down with time to spare
    stopping, unanswered = stop_in_background(server, grace=5)
    # THEN new connections are refused at once
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.server_address, timeout=2)
    # AND the request in progress gets its whole answer, and nothing is reported unanswered
    received = read_until_closed(conn)
    stopping.join(10)
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"\r\n\r\nok")
    # AND it says the connection closes after it (no further request on it)
    assert b"\r\nConnection: close\r\n" in received.partition(b"\r\n\r\n")[0] + b"\r\n"
    assert unanswered == [StopReport()]


def test_shutdown_counts_what_the_grace_period_cut_short(server_log: io.StringIO) -> None:
    # GIVEN a request whose answer takes longer than the grace period
    gateway = EchoGateway(delay_s=1.5)
    server = serve(gateway)
    with socket.create_connection(server.server_address, timeout=5) as conn:
        conn.sendall(b"GET /dev/status HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        # WHEN the server is shut down with 0.3 s of grace
        report = server.shutdown(grace=0.3)
    # THEN it says one request went unanswered, still in the function (a GET: nothing stored)
    assert report == StopReport(unanswered=1, stored=0, in_function=1)


def test_after_the_stop_begins_an_old_keep_alive_connection_gets_503_and_nothing_is_processed(
    server_log: io.StringIO,
) -> None:
    # GIVEN a keep-alive connection that has been served once, and a POST in progress on another
    gateway = EchoGateway(delay_s=0.5)
    server = serve(gateway)
    host, port = server.server_address
    kept = http.client.HTTPConnection(host, port, timeout=5)
    kept.request("GET", "/dev/status")
    first = kept.getresponse()
    assert (first.status, first.getheader("Connection"), first.read()) == (200, None, b"")
    busy = post_in_progress(server)
    # WHEN the stop begins and a new request arrives on the old keep-alive connection
    stopping, reports = stop_in_background(server, grace=5)
    started = time.monotonic()
    kept.request("POST", "/dev/track", body=b"late")
    refused = kept.getresponse()
    # THEN it is refused at once, unprocessed, in API Gateway's JSON shape, and the connection closes
    assert (refused.status, json.loads(refused.read())) == (
        503, {"message": "Service Unavailable: the local API is stopping; this request was not processed"})
    assert refused.getheader("Connection") == "close" and time.monotonic() - started < 0.4
    kept.close()
    # AND the POST in progress is finished and answered, its connection closing after it
    received = read_until_closed(busy)
    stopping.join(10)
    assert received.startswith(b"HTTP/1.1 200") and b"Connection: close" in received
    assert [r.body for r in gateway.requests] == [b"", b"ok"]  # the late one never reached the gateway
    assert reports == [StopReport()]


class BigAnswerGateway(EchoGateway):
    """Answers a POST with 200 and 64 MB: more than the socket and waitress's buffers hold."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, (("Content-Type", "application/octet-stream"),), b"x" * (64 * 1024 * 1024))


def test_a_stored_update_whose_answer_the_stop_cuts_off_is_counted_and_logged_as_such(server_log: io.StringIO) -> None:
    # GIVEN a POST the gateway answered 200 (stored), to a client that does not read its answer
    gateway = BigAnswerGateway()
    server = serve(gateway)
    with socket.create_connection(server.server_address, timeout=5) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.5)
        # WHEN the server stops with 0.3 s of grace
        report = server.shutdown(grace=0.3)
    # THEN the report counts it as stored but unanswered (no longer in the function)
    assert report == StopReport(unanswered=1, stored=1, in_function=0)
    # AND the log's last word on it says so: the 200 handed to the connection was never all sent
    lines = [line for line in server_log.getvalue().splitlines() if line.startswith("POST /dev/track")]
    assert lines[-1].startswith("POST /dev/track 200 ")
    assert lines[-1].endswith(": stored, but the answer was not delivered (the server stopped before all of it "
                              "was sent); a client retry stores it again unless it carries an Idempotency-Key")  # fmt: skip


def test_shutdown_survives_the_loop_running_its_stop_before_the_wake_up_is_written(server_log: io.StringIO) -> None:
    # GIVEN a server whose loop thread runs a queued stop action before the thread that queued it
    # writes its wake-up byte (waitress's pull_trigger queues, then writes: the loop may be awake already)
    server = serve(EchoGateway())
    trigger = server._server.trigger
    write = trigger._physical_pull

    def wake_then_let_the_loop_run_it_first() -> None:
        write()
        deadline = time.monotonic() + 5
        while trigger.thunks and time.monotonic() < deadline:
            time.sleep(0.01)
        write()  # the queuing thread's own write, now after the loop ran the action

    trigger._physical_pull = wake_then_let_the_loop_run_it_first
    # WHEN it stops  # THEN the stop completes (no EBADF from a wake-up pipe the stop closed under it)
    assert server.shutdown(grace=1) == StopReport()
    # AND the loop is gone and the wake-up pipe is closed once, after it
    assert not server._thread.is_alive() and trigger._closed and server._map == {}
