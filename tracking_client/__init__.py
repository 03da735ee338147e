"""A small client of the tracking API: SigV4-signed with botocore, pages followed, retries made safe.

Depends on botocore alone (no troposphere, no moto): `pip install ./client` in an app.
"""

from .client import IDEMPOTENCY_HEADER, TrackingClient
from .errors import ApiError, ApiUnreachable, ClientError, ConfigurationError
from .stack import API_ENDPOINT_OUTPUT
from .transport import RetryPolicy

__all__ = [
    "API_ENDPOINT_OUTPUT",
    "IDEMPOTENCY_HEADER",
    "ApiError",
    "ApiUnreachable",
    "ClientError",
    "ConfigurationError",
    "RetryPolicy",
    "TrackingClient",
]
