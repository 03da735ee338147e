"""What every step of a deploy works with: the clients, the console, the clock, how to wait."""

from __future__ import annotations

import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from ..console import Console

# The connection went away (botocore gave up retrying): the operation may carry on without us.
LOST_CONNECTION = (ConnectionError, HTTPClientError)
# How an endpoint says it lacks an operation (an emulator; moto answers HTML, a parse error).
UNSUPPORTED_CODES = frozenset({"InvalidAction", "NotImplemented", "UnknownOperationException"})


@dataclass(frozen=True)
class Polling:
    """How to wait: first delay, growth per poll, ceiling, and the overall limit (seconds)."""

    delay: float = 2.0
    backoff: float = 1.5
    max_delay: float = 15.0
    timeout: float = 3600.0


@dataclass(frozen=True)
class Context:
    """The boto3 clients a deploy is handed (tests give moto- or Stubber-backed ones) and the rest."""

    cfn: Any
    s3: Any = None
    polling: Polling = field(default_factory=Polling)
    console: Console = field(default_factory=Console)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # --region/--endpoint-url as given, for the aws commands printed as hints.
    cli_options: tuple[str, ...] = ()

    def aws_command(self, *words: str) -> str:
        """An `aws cloudformation ...` command line that reaches the same region and endpoint."""
        return shlex.join(["aws", "cloudformation", *words, *self.cli_options])


def error_code(error: ClientError) -> str:
    """The error code of a botocore ClientError ('' when it has none)."""
    return error.response.get("Error", {}).get("Code", "")


def error_message(error: ClientError) -> str:
    """The error message of a botocore ClientError ('' when it has none)."""
    return error.response.get("Error", {}).get("Message", "")


def token() -> str:
    """An idempotency token for one API request (CloudFormation: up to 128 chars)."""
    return f"deploy-{uuid.uuid4()}"
