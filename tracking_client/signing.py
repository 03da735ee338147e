"""SigV4 for API Gateway (service `execute-api`) with botocore's signer, and the region to sign for."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials

from .errors import ConfigurationError

SERVICE = "execute-api"
# https://{api-id}.execute-api.{region}.amazonaws.com[.cn]/{stage}: the URL says where it lives.
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def region_of_url(url: str) -> str | None:
    """The region in an `execute-api` URL's host name; None for any other host (a local API)."""
    match = _EXECUTE_API_HOST.match(urlsplit(url).hostname or "")
    return match.group(1) if match else None


def signed_request(
    method: str, url: str, params: dict[str, str], body: bytes, headers: dict[str, str],
    credentials: Credentials | None, region: str,
) -> AWSPreparedRequest:
    """METHOD URL?PARAMS signed now (each attempt signs anew: X-Amz-Date must be fresh)."""
    if credentials is None:
        raise ConfigurationError("no AWS credentials found: configure a profile, environment variables or a role")
    request = AWSRequest(method=method, url=url, params=params, data=body, headers=headers)
    # botocore canonicalises the query from `params` exactly as AWS does, so values with `+`, `=`
    # or `%` sign correctly (a signer that signs the query string as typed gets 403 for them).
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return request.prepare()
