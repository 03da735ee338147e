"""The local API's HTTP front over a real socket: how request bodies are framed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from scripts.localgw.gateway import HttpRequest, HttpResponse
from scripts.localgw.server import LocalApiServer


class EchoGateway:
    """Answers every request with its body, and remembers what it was handed."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, (("Content-Type", "application/octet-stream"),), request.body)


@pytest.fixture
def served() -> Iterator[tuple[LocalApiServer, EchoGateway]]:
    gateway = EchoGateway()
    server = LocalApiServer(("127.0.0.1", 0), gateway)  # type: ignore[arg-type] - duck-typed gateway
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def exchange(server: LocalApiServer, raw: bytes) -> bytes:
    """Send raw bytes on one connection; everything the server answers until it is quiet or closes."""
    with socket.create_connection(server.server_address[:2], timeout=2) as conn:
        conn.sendall(raw)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
                if received.count(b"HTTP/1.1 ") >= 2 or b"Connection: close" in received:
                    conn.settimeout(0.3)
        except socket.timeout:
            pass
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
