"""SigV4 verification of the local gateway: botocore-signed requests, good and bad."""

from __future__ import annotations

import datetime as dt
import hashlib
from unittest import mock

import pytest
from botocore.credentials import Credentials as BotoCredentials

from scripts.local.gateway.sigv4 import AuthError, Credentials, MissingAuthenticationToken, SignedRequest, verify

from .support import signed_headers

URL = "http://127.0.0.1:3000/dev/status?tracking_id=PKG%201&limit=5"
SERVER = Credentials("testing", "testing")
BODY = b'{"tracking_id": "PKG-1"}'


def received(method: str, url: str, headers: dict[str, str], body: bytes = b"") -> SignedRequest:
    """The request as the server sees it: the client's headers plus what the HTTP client adds."""
    pairs = tuple(headers.items()) + (("Host", "127.0.0.1:3000"), ("User-Agent", "test"), ("Connection", "keep-alive"))
    return SignedRequest(method, url, pairs, body)


def test_valid_signature_returns_the_access_key() -> None:
    # GIVEN a GET signed by the configured credentials
    headers = signed_headers("GET", URL)
    # WHEN it is verified  # THEN the signer is known
    assert verify(received("GET", URL, headers), SERVER, "us-east-1") == "testing"


def test_valid_signature_over_a_body() -> None:
    # GIVEN a POST whose body is signed
    url = "http://127.0.0.1:3000/dev/track"
    headers = signed_headers("POST", url, BODY)
    # WHEN verified  # THEN accepted
    assert verify(received("POST", url, headers, BODY), SERVER, "us-east-1") == "testing"


def test_unsigned_request_is_missing_authentication_token() -> None:
    # GIVEN no Authorization header  # WHEN verified  # THEN API Gateway's answer for unsigned requests
    with pytest.raises(MissingAuthenticationToken) as caught:
        verify(received("GET", URL, {}), SERVER, "us-east-1")
    assert (caught.value.status, caught.value.message) == (403, "Missing Authentication Token")


def test_wrong_secret_is_a_signature_mismatch_with_the_canonical_request() -> None:
    # GIVEN a request signed with another secret
    headers = signed_headers("GET", URL, credentials=BotoCredentials("testing", "wrong"))
    # WHEN verified
    with pytest.raises(AuthError) as caught:
        verify(received("GET", URL, headers), SERVER, "us-east-1")
    # THEN API Gateway's text, including what it computed (canonical query sorted and encoded)
    assert caught.value.error_type == "InvalidSignatureException"
    assert caught.value.message.startswith("The request signature we calculated does not match")
    assert "limit=5&tracking_id=PKG%201" in caught.value.message


def test_tampered_body_fails() -> None:
    # GIVEN a signed POST whose body is changed in transit
    url = "http://127.0.0.1:3000/dev/track"
    headers = signed_headers("POST", url, BODY)
    # WHEN verified with another body  # THEN the signature no longer matches
    with pytest.raises(AuthError, match="does not match"):
        verify(received("POST", url, headers, b'{"tracking_id": "PKG-2"}'), SERVER, "us-east-1")


def test_declared_payload_hash_must_be_the_bodys() -> None:
    # GIVEN a client that signs a declared X-Amz-Content-SHA256 of one body and sends another
    url = "http://127.0.0.1:3000/dev/track"
    other = b'{"tracking_id": "EVIL"}'
    headers = signed_headers("POST", url, BODY, headers={"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()})
    # WHEN verified  # THEN refused: the signature covers a hash, not the body sent
    with pytest.raises(AuthError, match="does not match"):
        verify(received("POST", url, headers, other), SERVER, "us-east-1")
    # AND the honest request passes
    assert verify(received("POST", url, headers, BODY), SERVER, "us-east-1") == "testing"


def test_tampered_query_fails() -> None:
    # GIVEN a signed GET  # WHEN its query string is changed  # THEN refused
    headers = signed_headers("GET", URL)
    with pytest.raises(AuthError, match="does not match"):
        verify(received("GET", URL.replace("PKG%201", "PKG%202"), headers), SERVER, "us-east-1")


@pytest.mark.parametrize("value", ["a b:c/d", "ünï+ç0dé", "x=y&z", "~-_."])
def test_query_is_canonicalized_from_its_decoded_values(value: str) -> None:
    # GIVEN a client that signs parameters (botocore encodes them, spaces as '+', on the wire)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url="http://127.0.0.1:3000/dev/status", params={"tracking_id": value})
    SigV4Auth(BotoCredentials("testing", "testing"), "execute-api", "us-east-1").add_auth(request)
    sent_url = request.prepare().url
    # WHEN the server verifies what arrived  # THEN the signature matches (as on AWS)
    assert verify(received("GET", sent_url, dict(request.headers)), SERVER, "us-east-1") == "testing"


@pytest.mark.parametrize("query", ["tracking_id=%FF", "tracking_id=%ED%A0%80&limit=5", "k%FE=v"])
def test_query_escapes_that_are_not_utf8_keep_their_bytes(query: str) -> None:
    # GIVEN a client that signs a query holding escapes of bytes that are not UTF-8
    url = f"http://127.0.0.1:3000/dev/status?{query}"
    headers = signed_headers("GET", url)
    # WHEN the server verifies it  # THEN it canonicalizes the same bytes (as AWS does), not U+FFFD
    assert verify(received("GET", url, headers), SERVER, "us-east-1") == "testing"


def test_unknown_access_key_is_an_invalid_token() -> None:
    # GIVEN a key id the server was not configured with
    headers = signed_headers("GET", URL, credentials=BotoCredentials("AKIDOTHER", "testing"))
    # WHEN verified  # THEN API Gateway's answer for unknown keys
    with pytest.raises(AuthError) as caught:
        verify(received("GET", URL, headers), SERVER, "us-east-1")
    assert caught.value.error_type == "UnrecognizedClientException"
    assert caught.value.message == "The security token included in the request is invalid."


def test_wrong_session_token_is_an_invalid_token() -> None:
    # GIVEN a server configured with a session token and a request carrying another
    headers = signed_headers("GET", URL, credentials=BotoCredentials("testing", "testing", "other-token"))
    # WHEN verified  # THEN refused
    with pytest.raises(AuthError, match="security token"):
        verify(received("GET", URL, headers), Credentials("testing", "testing", "the-token"), "us-east-1")


@pytest.mark.parametrize("minutes, text", [(-6, "Signature expired"), (6, "Signature not yet current")])
def test_stale_or_future_dates_are_refused(minutes: int, text: str) -> None:
    # GIVEN a request signed 6 minutes away from the server's clock
    headers = signed_headers("GET", URL)
    signed_at = dt.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    now = signed_at - dt.timedelta(minutes=minutes)
    # WHEN verified  # THEN refused with API Gateway's text
    with pytest.raises(AuthError, match=text):
        verify(received("GET", URL, headers), SERVER, "us-east-1", now=now)
    # AND 4 minutes of skew is fine
    assert verify(received("GET", URL, headers), SERVER, "us-east-1", now=signed_at + dt.timedelta(minutes=4))


@pytest.mark.parametrize(
    "region, service, message",
    [("eu-west-1", "execute-api", "valid region"), ("us-east-1", "s3", "correct service: 'execute-api'")],
)
def test_signature_scope_must_be_the_region_and_execute_api(region: str, service: str, message: str) -> None:
    # GIVEN a signature scoped to another region or service
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=URL)
    SigV4Auth(BotoCredentials("testing", "testing"), service, region).add_auth(request)
    # WHEN verified for us-east-1  # THEN refused
    with pytest.raises(AuthError, match=message):
        verify(received("GET", URL, dict(request.headers)), SERVER, "us-east-1")


@pytest.mark.parametrize(
    "authorization, missing",
    [("AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/execute-api/aws4_request", "'Signature'"),
     ("Bearer abc", "'Credential'")],
)
def test_malformed_authorization_is_an_incomplete_signature(authorization: str, missing: str) -> None:
    # GIVEN an Authorization header lacking parts  # WHEN verified  # THEN the missing part is named
    with pytest.raises(AuthError) as caught:
        verify(received("GET", URL, {"Authorization": authorization, "X-Amz-Date": "20261128T000000Z"}),
               SERVER, "us-east-1")
    assert caught.value.error_type == "IncompleteSignatureException"
    assert missing in caught.value.message


def test_signature_compare_is_constant_time() -> None:
    # GIVEN a valid request  # WHEN verified  # THEN the signatures are compared with hmac.compare_digest
    headers = signed_headers("GET", URL)
    with mock.patch("scripts.local.gateway.sigv4.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as compare:
        verify(received("GET", URL, headers), SERVER, "us-east-1")
    assert any(headers["Authorization"].endswith(call.args[1].decode()) for call in compare.call_args_list)
