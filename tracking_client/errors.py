"""The ways a call through the client can fail, each a small exception class."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Any failure of the tracking client; `exit_code` is the command line's for it."""

    exit_code = 1


class ConfigurationError(ClientError):
    """The client cannot start: no credentials, no region, no such stack, a bad URL (exit 2)."""

    exit_code = 2


class ApiError(ClientError):
    """The API answered with an error status; `reason` is its `{"error"}` or `{"message"}`."""

    def __init__(self, status: int, reason: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason
        self.body = body


class ApiUnreachable(ClientError):
    """Every attempt failed before an answer arrived (connection refused, reset, timed out)."""
