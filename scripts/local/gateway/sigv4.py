"""Verification of SigV4-signed requests, as API Gateway does for `AWS_IAM` methods.

The signature is recomputed with botocore's own signer (the same code clients sign with) on a
request rebuilt from exactly the headers the client says it signed, then compared in constant
time. Errors carry API Gateway's status, error type and message texts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import ReadOnlyCredentials

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"
# How far a request's X-Amz-Date may be from the server's clock (API Gateway: 5 minutes).
MAX_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Credentials:
    """The one identity the local gateway accepts signatures from."""

    access_key: str
    secret_key: str
    session_token: str | None = None


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The last value of header NAME (case-insensitive) among (name, value) pairs, or None."""
    lname = name.lower()
    found = None
    for key, value in headers:
        if key.lower() == lname:
            found = value
    return found


@dataclass(frozen=True)
class SignedRequest:
    """A request as received: method, full URL (raw path and query), headers and body."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The last value of a header (case-insensitive), or None."""
        return header_value(self.headers, name)


class AuthError(Exception):
    """A request API Gateway would refuse before the integration runs (403 unless told)."""

    def __init__(self, error_type: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


class MissingAuthenticationToken(AuthError):
    """No signature at all (API Gateway answers the same for an unknown route)."""

    def __init__(self) -> None:
        super().__init__("MissingAuthenticationTokenException", "Missing Authentication Token")


@dataclass(frozen=True)
class _AuthorizationHeader:
    access_key: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def _parse_authorization(value: str, amz_date: str | None) -> _AuthorizationHeader:
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val.strip()
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if amz_date is None:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if algorithm != ALGORITHM and not problems:
        problems.append(f"Unsupported signing algorithm '{algorithm}'.")
    if problems:
        raise AuthError("IncompleteSignatureException", " ".join(problems) + f" Authorization={value}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5:
        raise AuthError(
            "IncompleteSignatureException",
            f"Credential should have 5 parts separated by '/'. Authorization={value}",
        )
    return _AuthorizationHeader(
        access_key=scope[0],
        scope_date=scope[1],
        region=scope[2],
        service=scope[3],
        terminator=scope[4],
        signed_headers=tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()),
        signature=fields["Signature"],
    )


class _ExactHeadersSigner(SigV4Auth):
    """botocore's signer, told which headers were signed instead of choosing them itself."""

    def __init__(self, credentials: ReadOnlyCredentials, region: str, signed: Iterable[str]) -> None:
        super().__init__(credentials, SERVICE, region)
        self._signed = tuple(signed)

    def canonical_query_string(self, request: AWSRequest) -> str:
        # As AWS canonicalizes what it received: each name and value decoded ('+' is a space,
        # as in any query string) and re-encoded with only the unreserved characters left bare.
        # botocore's own version keeps the client's raw encoding, which a server must not trust.
        # Decoded to bytes, not text: an escape that is not UTF-8 (%FF) must come back unchanged.
        def canonical(part: str) -> str:
            return quote(unquote_to_bytes(part.replace("+", " ")), safe="-_.~")

        query = urlsplit(request.url).query
        pairs = [pair.partition("=") for pair in query.split("&") if pair]
        encoded = sorted((canonical(key), canonical(value)) for key, _, value in pairs)
        return "&".join(f"{key}={value}" for key, value in encoded)

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self._signed:
                header_map[name.lower()] = value
        return header_map


def _check_clock(amz_date: str, now: dt.datetime) -> None:
    try:
        signed_at = dt.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise AuthError(
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601",
        ) from None
    def fmt(moment: dt.datetime) -> str:
        return moment.strftime(SIGV4_TIMESTAMP)

    minutes = int(MAX_SKEW.total_seconds() // 60)
    if signed_at < now - MAX_SKEW:
        raise AuthError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {fmt(now - MAX_SKEW)} ({fmt(now)} - {minutes} min.)",
        )
    if signed_at > now + MAX_SKEW:
        raise AuthError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {fmt(now + MAX_SKEW)} "
            f"({fmt(now)} + {minutes} min.)",
        )


def verify(
    request: SignedRequest,
    credentials: Credentials,
    region: str,
    now: dt.datetime | None = None,
) -> str:
    """Check the request's SigV4 signature; return the signer's access key id or raise AuthError."""
    authorization = request.header("Authorization")
    if not authorization:
        raise MissingAuthenticationToken()
    amz_date = request.header("X-Amz-Date")
    auth = _parse_authorization(authorization, amz_date)
    assert amz_date is not None  # _parse_authorization refuses a request without one

    token = request.header("X-Amz-Security-Token")
    if not hmac.compare_digest(auth.access_key.encode(), credentials.access_key.encode()) or (
        token is not None and credentials.session_token is not None and token != credentials.session_token
    ):
        raise AuthError("UnrecognizedClientException", "The security token included in the request is invalid.")
    if auth.scope_date != amz_date[:8]:
        raise AuthError(
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.scope_date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    if auth.region != region:
        raise AuthError("InvalidSignatureException", f"Credential should be scoped to a valid region, not '{auth.region}'. ")
    if auth.service != SERVICE:
        raise AuthError("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if auth.terminator != "aws4_request":
        raise AuthError(
            "InvalidSignatureException",
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{auth.terminator}'. ",
        )
    _check_clock(amz_date, now or dt.datetime.now(dt.timezone.utc))

    # A client-declared payload hash is trusted by the canonical request, so it must be the
    # body's real hash: otherwise a signature would cover a body other than the one sent.
    declared = request.header("X-Amz-Content-SHA256")
    actual = hashlib.sha256(request.body).hexdigest()
    payload_ok = declared is None or declared == actual

    signed_headers = [(k, v) for k, v in request.headers if k.lower() in auth.signed_headers]
    rebuilt = AWSRequest(method=request.method, url=request.url, data=request.body)
    for name, value in signed_headers:
        rebuilt.headers.add_header(name, value)
    rebuilt.context["timestamp"] = amz_date
    signer = _ExactHeadersSigner(
        ReadOnlyCredentials(credentials.access_key, credentials.secret_key, credentials.session_token),
        region,
        auth.signed_headers,
    )
    canonical_request = signer.canonical_request(rebuilt)
    string_to_sign = signer.string_to_sign(rebuilt, canonical_request)
    expected = signer.signature(string_to_sign, rebuilt)
    if not (payload_ok and hmac.compare_digest(expected.encode(), auth.signature.encode())):
        raise AuthError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
            f"The Canonical String for this request should have been\n'{canonical_request}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n",
        )
    return auth.access_key
