"""tracking_api.pagination: tokens that round-trip, and refusal of anything else."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tracking_api import pagination
from tracking_api.errors import InvalidRequest

ids = st.text(min_size=1, max_size=100).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
timestamps = st.integers(min_value=0, max_value=pagination.MAX_TIMESTAMP)
INVALID = "last_key is not a valid page token"


@settings(max_examples=500, deadline=None)
@given(ids, timestamps)
@example("A", 0)
@example("\U0001f600" * 100, pagination.MAX_TIMESTAMP)  # the longest token a 100-character id can have
@example('"\\\x00\u2028', 1)  # characters JSON escapes
def test_tokens_round_trip_and_are_opaque_url_safe(tracking_id, timestamp):
    # GIVEN a key / WHEN encoded and decoded / THEN the same key comes back from a URL-safe token
    token = pagination.encode(tracking_id, timestamp)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) <= pagination.MAX_TOKEN_CHARS
    assert pagination.decode(token, tracking_id) == {"tracking_id": tracking_id, "timestamp": timestamp}


@pytest.mark.parametrize(
    ("tracking_id", "timestamp", "token"),
    [
        ("A", 0, "WyJBIiwwXQ"),  # base64url of ["A",0], unpadded
        ("A", pagination.MAX_TIMESTAMP, "WyJBIiw5MDA3MTk5MjU0NzQwOTkxXQ"),
        ("\u00e9", 42, "WyLDqSIsNDJd"),  # ["é",42] in UTF-8, not "\u00e9"
    ],
)
def test_token_is_unpadded_base64url_of_compact_utf8_json(tracking_id, timestamp, token):
    assert pagination.encode(tracking_id, timestamp) == token
    assert pagination.decode(token, tracking_id) == {"tracking_id": tracking_id, "timestamp": timestamp}


def test_a_100_emoji_id_mints_a_token_the_service_accepts_back():
    # GIVEN the widest tracking_id the schema allows (100 four-byte characters) and the largest timestamp
    tracking_id = "\U0001f600" * 100
    # WHEN encoded / THEN raw UTF-8 keeps the token at 562 characters (JSON \u escapes would make it 1,630,
    # over the 1,024 decode accepts: the service would refuse its own token)
    token = pagination.encode(tracking_id, pagination.MAX_TIMESTAMP)
    assert len(token) == 562
    assert pagination.decode(token, tracking_id)["tracking_id"] == tracking_id


def test_token_length_limit_is_1024_characters_inclusive():
    # GIVEN canonical tokens for long ids (decode alone does not bound the id): 762 x's make exactly 1,024 chars
    at_limit, over_limit = pagination.encode("x" * 762, 0), pagination.encode("x" * 763, 0)
    assert (len(at_limit), len(over_limit)) == (pagination.MAX_TOKEN_CHARS, 1026)
    # THEN the one at the limit is accepted and the longer one refused, though it names its own id
    assert pagination.decode(at_limit, "x" * 762) == {"tracking_id": "x" * 762, "timestamp": 0}
    with pytest.raises(InvalidRequest) as caught:
        pagination.decode(over_limit, "x" * 763)
    assert caught.value.message == INVALID


def test_token_of_another_shipment_is_refused():
    token = pagination.encode("A", 5)
    with pytest.raises(InvalidRequest) as caught:
        pagination.decode(token, "B")
    assert caught.value.message == "last_key belongs to another tracking_id"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a b",
        "abc=",
        "+/+/",
        "A" * (pagination.MAX_TOKEN_CHARS + 1),
        "A",  # not decodable base64
        _b64(b"\xff\xfe"),
        _b64(b"{}"),
        _b64(b'{"tracking_id":"A","timestamp":1}'),
        _b64(b'["A"]'),
        _b64(b'["A",1,2]'),
        _b64(b'["A","1"]'),
        _b64(b'["A",1.0]'),
        _b64(b'["A",1e3]'),
        _b64(b'["A",true]'),
        _b64(b'["A",-1]'),
        _b64(b'["A",9007199254740992]'),
        _b64(b'["A",NaN]'),
        _b64(b'[1,1]'),
        _b64(b'["A", 1]'),
        _b64(b'["\\u0041",1]'),
        _b64(b'["\\ud800",1]'),
    ],
)
def test_malformed_or_non_canonical_tokens_are_refused(token):
    with pytest.raises(InvalidRequest) as caught:
        pagination.decode(token, "A")
    assert caught.value.message == INVALID


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_garbage_never_raises_anything_but_invalid_request(token):
    # GIVEN any text / WHEN decoded / THEN a key for this id or InvalidRequest, never another error
    try:
        key = pagination.decode(token, "A")
    except InvalidRequest:
        return
    assert key["tracking_id"] == "A"
