"""`TrackingClient`: the tracking API's three routes as methods, signed with the caller's AWS credentials."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import botocore.session

from .errors import ConfigurationError
from .signing import region_of_url
from .stack import api_url_from_stack
from .transport import IDEMPOTENCY_HEADER, RetryPolicy, Transport


class TrackingClient:
    """A client of one deployed API (its stage's base URL, e.g. `https://ID.execute-api.REGION.amazonaws.com/dev`)."""

    def __init__(
        self, url: str, session: Any = None, region: str | None = None, *, timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigurationError(f"invalid API URL {url!r}: expected http(s)://HOST[:PORT]/STAGE")
        self.url = url.rstrip("/")
        self.session = session or botocore.session.Session()
        region = region or region_of_url(url) or _session_region(self.session)
        if not region:
            raise ConfigurationError("no AWS region to sign for: pass --region or set AWS_REGION")
        if self.session.get_credentials() is None:
            raise ConfigurationError("no AWS credentials found: configure a profile, environment variables or a role")
        self.region = region
        # Read per request: refreshable credentials (a role, SSO) renew themselves.
        self._transport = Transport(self._frozen_credentials, region, timeout_s, retry)

    @classmethod
    def from_stack(
        cls, stack_name: str, session: Any = None, region: str | None = None, endpoint_url: str | None = None,
        **options: Any,
    ) -> TrackingClient:
        """A client of the API a CloudFormation stack deployed (its `ApiEndpoint` output)."""
        session = session or botocore.session.Session()
        url = api_url_from_stack(session, stack_name, region or _session_region(session), endpoint_url)
        return cls(url, session, region, **options)

    def track(
        self, tracking_id: str, status: str, lat: float, lng: float, metadata: Mapping[str, Any] | None = None,
        *, idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """POST /track one update; retried under one Idempotency-Key, so it is stored at most once."""
        body: dict[str, Any] = {"tracking_id": tracking_id, "status": status, "location": {"lat": lat, "lng": lng}}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        key = idempotency_key or str(uuid.uuid4())
        return self._transport.send("POST", f"{self.url}/track", body=body, headers={IDEMPOTENCY_HEADER: key})

    def status(self, tracking_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every update of a shipment, newest first, following `next_key` (LIMIT: updates per request)."""
        for page in self.status_pages(tracking_id, limit):
            yield from page["updates"]

    def shipments(self, status: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every shipment whose latest update has STATUS, newest first, following `next_key`."""
        for page in self.shipments_pages(status, limit):
            yield from page["shipments"]

    def status_pages(
        self, tracking_id: str, limit: int | None = None, last_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """GET /status page after page (each the API's answer), from LAST_KEY or the newest update."""
        return self._pages("status", {"tracking_id": tracking_id}, limit, last_key)

    def shipments_pages(
        self, status: str, limit: int | None = None, last_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """GET /shipments page after page (each the API's answer), from LAST_KEY or the first."""
        return self._pages("shipments", {"status": status}, limit, last_key)

    def close(self) -> None:
        """Close the client's connections."""
        self._transport.close()

    def __enter__(self) -> TrackingClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _pages(
        self, route: str, params: dict[str, str], limit: int | None, last_key: str | None,
    ) -> Iterator[dict[str, Any]]:
        if limit is not None:
            params["limit"] = str(limit)
        while True:
            if last_key is not None:
                params["last_key"] = last_key
            page = self._transport.send("GET", f"{self.url}/{route}", params=params)
            yield page
            last_key = page.get("next_key")
            if last_key is None:
                return

    def _frozen_credentials(self) -> Any:
        credentials = self.session.get_credentials()
        return None if credentials is None else credentials.get_frozen_credentials()


def _session_region(session: Any) -> str | None:
    """The session's region (a botocore or boto3 session), else AWS_REGION.

    botocore reads only AWS_DEFAULT_REGION and the profile; AWS_REGION is what Lambda, the AWS CLI
    v2 and this project's docs set.
    """
    if hasattr(session, "get_config_variable"):
        region = session.get_config_variable("region")
    else:
        region = getattr(session, "region_name", None)
    return region or os.environ.get("AWS_REGION") or None
