"""Helpers for the scripts.local tests: SigV4-signed HTTP calls and a free port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
GOOD = Credentials("testing", "testing")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether nothing listens on PORT and a new server can bind it.

    SO_REUSEADDR as every server sets it: connections the old server closed first linger in
    TIME_WAIT on that port, which is the kernel's bookkeeping, not a process holding it.
    """
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def signed_headers(
    method: str, url: str, body: bytes = b"", credentials: Credentials | None = GOOD, region: str = REGION,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers for a request signed with botocore's SigV4Auth (service execute-api); none if unsigned."""
    headers = dict(headers or {})
    if body:
        headers.setdefault("Content-Type", "application/json")
    if credentials is None:
        return headers
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers)


@dataclass
class Answer:
    """An HTTP answer: status, headers (lower-cased names) and the body parsed as JSON."""

    status: int
    headers: dict[str, str]
    json: Any


class Client:
    """One keep-alive HTTP connection to the local API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def call(
        self, method: str, path: str, body: Any = None, credentials: Credentials | None = GOOD,
        headers: dict[str, str] | None = None, raw: bytes | None = None,
    ) -> Answer:
        """Send METHOD base_url+PATH, signed by CREDENTIALS (None: unsigned)."""
        url = self.base_url + path
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        all_headers = signed_headers(method, url, data, credentials, headers=headers)
        self.connection.request(method, urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else ""),
                                body=data or None, headers=all_headers)
        response = self.connection.getresponse()
        payload = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                      json.loads(payload) if payload else None)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


@contextlib.contextmanager
def isolated_environ() -> Iterator[None]:
    """Restore os.environ afterwards: in-process functions set their Lambda variables in it."""
    from scripts.local.gateway.functions import InProcessFunction

    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        InProcessFunction._active, InProcessFunction._applied = None, frozenset()
