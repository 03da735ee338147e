"""The HTTP front of the local gateway: waitress does the HTTP, the Gateway answers.

waitress frames HTTP/1.1 strictly (a malformed or ambiguous length is a 400, never a second
request), bounds the headers and the body while reading (a body over API Gateway's 10 MB
limit is refused from its Content-Length, before a byte of it is read), closes idle and
half-sent connections, and hands the app a request only once all of it has arrived.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.util import is_hop_by_hop

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

from .gateway import TOO_LONG, Gateway, HttpRequest

log = logging.getLogger("scripts.local")

PAYLOAD_LIMIT = 10 * 1024 * 1024  # API Gateway REST's request payload limit (10 MB), in bytes
HEADER_LIMIT = 64 * 1024  # request line and headers, in bytes
IDLE_TIMEOUT_S = 30  # a connection with nothing to do (idle keep-alive, half-sent request) is closed
THREADS = 8  # requests served at once (the functions themselves run one at a time)
CONNECTION_LIMIT = 500  # beyond this, new connections wait in the backlog
BACKLOG = 1024  # connections the kernel queues before accept
LINGER_S = 5.0  # after an error answer: how long the rest of a refused request is read and dropped
# Methods that change nothing: a POST answered 2xx is a change made (an update stored).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PARSED = "local_gateway.request"  # the environ key holding waitress's parsed request


@dataclass(frozen=True)
class StopReport:
    """What a stop left unanswered: requests received in full whose answer was not (fully) sent."""

    unanswered: int = 0
    # Of those: changes the function made (a POST answered 2xx): a client's retry makes them
    # again unless it carries an Idempotency-Key.
    stored: int = 0
    # Of those: still running in the function when the connections closed (may be stored too).
    in_function: int = 0


class _Stopping(Error):
    """waitress's error for a request that arrived after the stop began: not processed."""

    code = 503
    reason = "Service Unavailable"


class _StrictParser(HTTPRequestParser):
    """waitress's parser, also refusing what RFC 9112 allows a server to refuse as ambiguous.

    It also carries what a stop needs to know of the request: when it arrived in full, how far
    the gateway got with it, and whether the function changed something for it.
    """

    completed_at: float | None = None
    progress = "queued"  # -> "in-function" -> "handled"
    stored = False
    logged_line = ""  # the request's log line, once logged as answered (waitress took the whole answer)

    def received(self, data: bytes) -> int:
        """Take in DATA; a request already refused (a 413 from its Content-Length) asks for no body."""
        consumed = super().received(data)
        if self.error is not None:
            # waitress would answer "Expect: 100-continue" with 100 Continue, then read the body
            # it has already refused before sending the error.
            self.expect_continue = False
        if self.completed and self.completed_at is None:
            self.completed_at = time.monotonic()
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        """Parse the head; ParsingError (a 400) for framing that could be read two ways."""
        try:
            super().parse_header(header_plus)
        except TransferEncodingNotImplemented as error:  # a body this server cannot frame: 400 as any other
            raise ParsingError(str(error)) from None
        if self.version not in ("1.0", "1.1"):
            raise ParsingError(f"HTTP version {self.version or '(none)'} is not supported")
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            # Request smuggling's favourite: a front end that reads the length and a back end
            # that reads the chunks disagree on where the next request starts.
            raise ParsingError("Content-Length together with Transfer-Encoding")
        if self.version == "1.0" and "TRANSFER_ENCODING" in self.headers:
            raise ParsingError("Transfer-Encoding in an HTTP/1.0 request")


class _JsonErrorTask(ErrorTask):
    """waitress's answer to a request it refuses, as API Gateway's JSON `{"message": ...}`."""

    def execute(self) -> None:
        """Write the error status, a JSON body, and close the connection after it."""
        error = self.request.error
        self.status = f"{error.code} {error.reason}"
        message = TOO_LONG if error.code == 413 else f"{error.reason}: {error.body}"
        body = json.dumps({"message": message}).encode("utf-8")
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()  # the rest of the stream cannot be trusted
        self.channel.linger_after_close = True
        self.content_length = len(body)
        self.write(body)


class _Task(WSGITask):
    """waitress's request task: once the stop began, every answer says `Connection: close`."""

    def build_response_header(self) -> bytes:
        """The status line and headers; `Connection: close` (and a close after) once stopping."""
        if self.channel.server.stopped_at is not None:
            self.set_close_on_finish()
        return super().build_response_header()

    def get_environment(self) -> dict[str, Any]:
        """The WSGI environ, with the parsed request (see `_StrictParser`) for the app to mark."""
        environ = super().get_environment()
        environ[_PARSED] = self.request
        return environ


class _Channel(HTTPChannel):
    """waitress's connection, with a lingering close after an error answer, and a clean stop.

    A client still sending what the server refused (an 11 MB body after its 413) would get a
    reset, losing the answer, if the socket closed with its bytes unread: so the server shuts
    its sending side, then reads and drops what still comes for LINGER_S seconds at most.

    Once the stop began, a request that arrives in full on an open keep-alive connection is
    refused with a 503 (never processed); those received before are finished.
    """

    parser_class = _StrictParser
    task_class = _Task
    error_task_class = _JsonErrorTask
    linger_after_close = False
    _linger_until: float | None = None
    serving: _StrictParser | None = None  # the request last handed to a task (its answer may be unsent)

    def service(self) -> None:
        """Run the next request's task; one that arrived after the stop began is answered 503."""
        request = self.requests[0]
        stopped_at = self.server.stopped_at
        if stopped_at is not None and request.error is None and (request.completed_at or 0.0) >= stopped_at:
            request.error = _Stopping("the local API is stopping; this request was not processed")
        self.serving = request
        super().service()

    def handle_close(self) -> None:
        """Close; after an error answer, first half-close and drain (see the class)."""
        if self.linger_after_close and self._linger_until is None and self.connected:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                return super().handle_close()
            self._linger_until = time.monotonic() + LINGER_S
            self.will_close = self.close_when_flushed = False
            return None
        return super().handle_close()

    def readable(self) -> bool:
        """While lingering: always, to drain; otherwise as waitress decides."""
        return self._linger_until is not None or super().readable()

    def handle_read(self) -> None:
        """While lingering, drop what arrives (the peer's end closes the channel); else parse it."""
        if self._linger_until is None:
            return super().handle_read()
        try:
            data = self.recv(self.adj.recv_bytes)  # b"": the peer closed, and so has the channel
        except OSError:
            data = b""
            super().handle_close()
        if data and time.monotonic() > self._linger_until:
            super().handle_close()
        return None


class _Server(TcpWSGIServer):
    channel_class = _Channel
    stopped_at: float | None = None  # when the stop began (time.monotonic()); None while serving


class _OneLineFormatter(logging.Formatter):
    """waitress's own log records (a client that went away, a socket error) as one line each."""

    def format(self, record: logging.LogRecord) -> str:
        """The message, and the exception's type and text where a traceback would go."""
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message}: {type(error).__name__}: {error}"
        return f"http: {message}"


def configure_server_logging(handler: logging.Handler) -> None:
    """Route waitress's log to HANDLER, one line per record, without its queue-depth chatter."""
    handler.setFormatter(_OneLineFormatter())
    waitress_log = logging.getLogger("waitress")
    waitress_log.handlers = [handler]
    waitress_log.setLevel(logging.INFO)
    waitress_log.propagate = False
    # "Task queue depth is N" on every burst of clients: expected here, nothing to act on.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def _headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    # WSGI keeps header names as HTTP_UPPER_SNAKE; API Gateway hands the function the
    # client's spelling, which for every common client is this Title-Case.
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append(("-".join(part.capitalize() for part in name.split("_")), value))
    return tuple(headers)


class LocalApiServer:
    """waitress on ADDRESS serving one Gateway, with a bounded graceful shutdown."""

    def __init__(
        self,
        address: tuple[str, int],
        gateway: Gateway | None = None,
        idle_timeout: int = IDLE_TIMEOUT_S,
        threads: int = THREADS,
    ) -> None:
        self.gateway = gateway  # type: ignore[assignment] - set before serving starts
        self._map: dict[int, Any] = {}  # waitress's socket map: the listener and every connection
        self._server = _Server(
            self._app,
            map=self._map,
            host=address[0],
            port=address[1],
            threads=threads,
            backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=idle_timeout,
            cleanup_interval=max(1, min(idle_timeout, 5)),
            max_request_header_size=HEADER_LIMIT,
            max_request_body_size=PAYLOAD_LIMIT + 1,  # waitress refuses a length >= its limit
            clear_untrusted_proxy_headers=False,  # the function sees every header the client sent
            asyncore_use_poll=True,  # select() cannot watch a descriptor numbered 1024 or more
            ident="local-gateway",
        )
        # waitress sets TCP_NODELAY on every connection: without it, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        self._thread: threading.Thread | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        return self._server.effective_host, int(self._server.effective_port)

    @property
    def base_host(self) -> str:
        """host:port the server listens on."""
        host, port = self.server_address
        return f"{host}:{port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()

    def _in_loop(self, action: Callable[[], None]) -> None:
        # waitress's socket map belongs to its loop thread: change it from there.
        self._server.trigger.pull_trigger(action)

    def _pending(self) -> list[_StrictParser]:
        """Requests received in full whose answer has not been (fully) sent yet."""
        pending: list[_StrictParser] = []
        for channel in list(self._server.active_channels.values()):
            if channel.requests:
                pending.extend(channel.requests)
            elif channel.total_outbufs_len and channel.serving is not None:
                pending.append(channel.serving)  # answered, but not all of it has left
        return pending

    def unanswered(self) -> int:
        """Requests received in full whose answer has not been sent yet."""
        return len(self._pending())

    def shutdown(self, grace: float = 5.0) -> StopReport:
        """Stop accepting, let requests already received finish (up to GRACE seconds), close.

        From the start of the stop, answers carry `Connection: close` and a request arriving on
        an open connection is answered 503 unprocessed. Returns what was left unanswered.
        """
        if self._thread is None:  # never served: close the socket and the idle worker threads
            self._server.close()
            self._server.task_dispatcher.shutdown(timeout=1)
            return StopReport()
        self._server.stopped_at = time.monotonic()
        self._in_loop(lambda: wasyncore.dispatcher.close(self._server))  # the listening socket only
        deadline = time.monotonic() + grace
        while self.unanswered() and time.monotonic() < deadline:
            time.sleep(0.02)
        pending = self._pending()
        for request in pending:
            if request.logged_line:  # logged as answered, but its bytes never all left
                log.warning("%s", _not_delivered(request.logged_line, request.stored, "the server stopped before all of it was sent"))
        report = StopReport(
            unanswered=len(pending),
            stored=sum(1 for request in pending if request.stored),
            in_function=sum(1 for request in pending if request.progress == "in-function"),
        )
        self._in_loop(self._close_connections)  # the loop ends with its map
        self._server.task_dispatcher.shutdown(timeout=1)
        self._thread.join(5)
        if not self._thread.is_alive():  # only with the loop gone is its wake-up pipe closed, here alone
            self._server.trigger.close()
        return report

    def _close_connections(self) -> None:
        """In the loop: close every connection and empty the map, which ends the loop.

        The trigger (waitress's wake-up pipe) leaves the map but stays open: pull_trigger queues
        this action, then writes the wake-up byte, and the loop, awake already, may run the action
        between the two. Closed here, the write would hit a closed descriptor (EBADF) or, once the
        number is reused, another server's pipe or socket.
        """
        trigger = self._server.trigger
        try:
            wasyncore.close_all({fd: channel for fd, channel in self._map.items() if channel is not trigger})
        finally:
            self._map.clear()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # waitress calls this once the whole request has arrived; one log line per request,
        # written once waitress took the whole answer (or failed to: see _Answer).
        started = time.perf_counter()
        parsed: _StrictParser = environ[_PARSED]
        request = HttpRequest(
            method=environ["REQUEST_METHOD"],
            raw_path=environ["REQUEST_URI"],  # as sent: the signature covers the encoded path
            headers=_headers(environ),
            body=environ["wsgi.input"].read(),
            source_ip=environ["REMOTE_ADDR"],
            protocol=environ["SERVER_PROTOCOL"],
        )
        parsed.progress = "in-function"
        response = self.gateway.handle(request)
        parsed.progress = "handled"
        parsed.stored = request.method not in SAFE_METHODS and 200 <= response.status < 300
        headers = [(name, value) for name, value in response.headers if not is_hop_by_hop(name)]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {http.client.responses.get(response.status, 'Unknown')}", headers)
        line = f"{request.method} {request.raw_path} {response.status} {(time.perf_counter() - started) * 1000:.1f}ms"
        return _Answer(response.body, line, parsed)


def _not_delivered(line: str, stored: bool, why: str) -> str:
    """A request's log line for an answer that never reached the client, and what a retry would do."""
    if stored:
        return (f"{line}: stored, but the answer was not delivered ({why}); a client retry stores it "
                "again unless it carries an Idempotency-Key")  # fmt: skip
    return f"{line}: the answer was not delivered ({why})"


class _Answer:
    """A response body for waitress; its close (WSGI: called when writing ended) logs the request line.

    The line is logged as answered only once waitress took the whole answer; one whose connection
    closed first (the server stopping, the client gone) is logged as not delivered, with what a
    retry would do (and `shutdown` corrects a line whose bytes the stop cut off after that).
    """

    def __init__(self, body: bytes, line: str, parsed: _StrictParser) -> None:
        self._body, self._line, self._parsed = body, line, parsed
        self._written = False

    def __iter__(self) -> Iterator[bytes]:
        yield self._body
        self._written = True  # waitress asked for more: the body was written

    def close(self) -> None:
        """Log the request's line: answered, or not delivered and what that means."""
        if self._written:
            log.info("%s", self._line)
            self._parsed.logged_line = self._line
        else:
            log.warning("%s", _not_delivered(self._line, self._parsed.stored, "the connection closed first"))
