"""boto3 sessions and clients for the scripts: region, endpoint and retry settings in one place."""

from __future__ import annotations

import ipaddress
import os
import sys
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionError, EndpointConnectionError, HTTPClientError

from .cli import non_empty
from .errors import DeployError, UsageError


@dataclass(frozen=True)
class AwsTarget:
    """Where the scripts talk to: a region and, for emulators, an endpoint URL."""

    region: str | None = None
    endpoint_url: str | None = None
    # "standard" retries throttling and transient errors with jittered exponential backoff;
    # "adaptive" adds client-side rate limiting, which after one throttle slows every later
    # call of a low-rate poller for seconds. AWS_RETRY_MODE chooses, as botocore's own does.
    retry_mode: str = field(default_factory=lambda: os.environ.get("AWS_RETRY_MODE", "standard"))
    max_attempts: int = 10


class Aws:
    """One boto3 session and the clients made from it, all configured alike."""

    def __init__(self, target: AwsTarget, session: boto3.Session | None = None) -> None:
        if target.endpoint_url is not None:
            check_endpoint_url(target.endpoint_url)
        self.target = target
        self.session = session or boto3.Session(region_name=target.region)
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        """The region in use; a missing one is a usage error."""
        region = self.session.region_name
        if not region:
            raise UsageError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        return region

    def check_credentials(self) -> None:
        """Fail early, as a usage error, when no credentials can be found."""
        if self.session.get_credentials() is None:
            raise UsageError(
                "no AWS credentials found: configure a profile, environment variables or a role"
            )

    def client(self, service: str) -> Any:
        """A client for SERVICE (cached), honouring --endpoint-url and boto3's AWS_ENDPOINT_URL."""
        if service not in self._clients:
            config = Config(
                retries={"mode": self.target.retry_mode, "max_attempts": self.target.max_attempts}
            )
            kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
            # Without an explicit URL, botocore reads AWS_ENDPOINT_URL(_<SERVICE>) itself.
            if self.target.endpoint_url:
                kwargs["endpoint_url"] = self.target.endpoint_url
            try:
                client = self.session.client(service, **kwargs)
            except ValueError as error:  # botocore: a malformed endpoint URL or region name
                raise UsageError(
                    f"{error} (check --endpoint-url / AWS_ENDPOINT_URL and --region / AWS_REGION)"
                ) from None
            prefix = client.meta.service_model.endpoint_prefix
            client.meta.events.register(f"needs-retry.{prefix}", self._say_retrying)
            self._clients[service] = client
        return self._clients[service]

    def _say_retrying(
        self, attempts: int, caught_exception: Exception | None = None, **_: Any
    ) -> None:
        """While botocore retries an endpoint it cannot reach (seconds pass), say so on stderr.

        A refused connection to this machine is not retried: nothing listens on that port, and
        ten attempts with backoff would only make the user wait half a minute to learn it.
        """
        if isinstance(caught_exception, EndpointConnectionError) and is_local_endpoint(
            caught_exception.kwargs.get("endpoint_url", "")
        ):
            endpoint = caught_exception.kwargs["endpoint_url"]
            raise DeployError(
                f"cannot reach {endpoint}: nothing listens on this machine at that address "
                "(start the emulator first, e.g. python -m moto.server -p PORT, or check "
                "--endpoint-url / AWS_ENDPOINT_URL)"
            )
        if isinstance(caught_exception, (ConnectionError, HTTPClientError)) and (
            attempts < self.target.max_attempts
        ):
            print(
                f"cannot reach the endpoint ({caught_exception}); retrying "
                f"(attempt {attempts} of {self.target.max_attempts})",
                file=sys.stderr,
                flush=True,
            )


def is_local_endpoint(url: str) -> bool:
    """Whether URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str) -> str:
    """URL if it is an http(s) URL with a host and a valid port, else a usage error.

    Empty is refused: botocore would take it as "no endpoint" and talk to real AWS.
    """
    problem = ""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "expected http(s)://HOST[:PORT]"
    shown = url
    if not url.strip():
        shown, problem = repr(url), "empty, which would silently mean real AWS"
    if problem:
        raise UsageError(f"Invalid endpoint: {shown} ({problem}; check --endpoint-url)")
    return url


def add_aws_arguments(parser: Any) -> None:
    """Add --region and --endpoint-url to an argparse parser."""
    parser.add_argument("--region", type=non_empty, help="AWS region (default: the profile's or AWS_REGION)")
    parser.add_argument(
        "--endpoint-url",
        help="send every AWS call to this http(s) URL (an emulator); boto3's AWS_ENDPOINT_URL "
        "also works. Never empty: an empty value would silently mean real AWS",
    )  # fmt: skip


def cli_options(target: AwsTarget) -> tuple[str, ...]:
    """--region/--endpoint-url as given, for aws CLI commands printed as hints."""
    options: list[str] = []
    if target.region:
        options += ["--region", target.region]
    if target.endpoint_url:
        options += ["--endpoint-url", target.endpoint_url]
    return tuple(options)


class ApiCallCounter:
    """Counts the API calls a session's clients make, by (service, operation)."""

    def __init__(self, session: boto3.Session) -> None:
        from collections import Counter

        self.calls: Counter[tuple[str, str]] = Counter()
        session.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1

    def count(self, operation: str) -> int:
        """Calls of OPERATION (e.g. 'PutObject'), whatever the service."""
        return sum(n for (_, op), n in self.calls.items() if op == operation)

    @property
    def total(self) -> int:
        """All calls counted."""
        return sum(self.calls.values())
