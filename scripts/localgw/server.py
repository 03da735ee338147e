"""The HTTP front of the local gateway: stdlib threading server, HTTP/1.1 keep-alive."""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .gateway import Gateway, HttpRequest

log = logging.getLogger("scripts.local")
_MAX_LINE = 65536  # longest chunk-size or trailer line read


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: LocalApiServer

    def _read_chunked(self) -> bytes:
        """A `Transfer-Encoding: chunked` body (RFC 9112 7.1); ValueError when malformed."""
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(_MAX_LINE + 1)
            if len(size_line) > _MAX_LINE or not size_line.endswith(b"\n"):
                raise ValueError("chunk size line")
            size = int(size_line.split(b";", 1)[0].strip(), 16)  # ValueError when not hex
            if size < 0:
                raise ValueError("chunk size")
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise ValueError("chunk data")
            chunks.append(chunk)
        while True:  # trailer fields, up to the empty line that ends the message
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE or not line.endswith(b"\n"):
                raise ValueError("trailer")
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)

    def _read_body(self) -> bytes:
        """The request body, framed by chunked transfer coding or Content-Length; ValueError when malformed."""
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            return self._read_chunked()
        if self.headers.get("Transfer-Encoding"):
            raise ValueError("unsupported transfer coding")
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except ValueError:
            # The rest of the stream cannot be framed: answer and drop the connection.
            self.close_connection = True
            self.send_error(400, "Bad request body framing")
            return
        request = HttpRequest(
            method=self.command,
            raw_path=self.path,
            headers=tuple(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        response = self.server.gateway.handle(request)
        self.send_response_only(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms", self.command, self.path, response.status, elapsed_ms)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's signature
        """Silence the stdlib's access log: `_serve` writes one line per request instead."""


class LocalApiServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one Gateway."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], gateway: Gateway | None = None) -> None:
        super().__init__(address, _Handler)
        self.gateway = gateway  # type: ignore[assignment] - set before serving starts

    @property
    def base_host(self) -> str:
        """host:port the server listens on."""
        host, port = self.server_address[:2]
        return f"{host}:{port}"
