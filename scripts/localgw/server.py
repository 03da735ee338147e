"""The HTTP front of the local gateway: stdlib threading server, HTTP/1.1 keep-alive."""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .gateway import Gateway, HttpRequest

log = logging.getLogger("scripts.local")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: LocalApiServer

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
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
