"""The opaque page token: base64url of the last key, checked strictly when it comes back.

A token names the shipment it was issued for; one naming another shipment is refused, so a
client can never steer a query outside the tracking_id it asked for. Anything that is not
exactly what `encode` produces (padding, other alphabets, extra fields, floats, booleans,
non-canonical JSON) is refused too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .errors import InvalidRequest

# 100 characters of tracking_id, each at most 4 UTF-8 bytes, plus the JSON around them.
MAX_TOKEN_CHARS = 1024
MAX_TIMESTAMP = 2**53 - 1  # what every JSON client can hold exactly
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")
_INVALID = "last_key is not a valid page token"


def encode(tracking_id: str, timestamp: int) -> str:
    """The token for a page that ends at (tracking_id, timestamp)."""
    # Raw UTF-8, not \u escapes: 100 four-byte characters stay far inside MAX_TOKEN_CHARS.
    text = json.dumps([tracking_id, timestamp], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode(token: str, tracking_id: str) -> dict[str, Any]:
    """The DynamoDB start key a token stands for, if it is well-formed and for this tracking_id."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _TOKEN_RE.fullmatch(token):
        raise InvalidRequest(_INVALID)
    try:
        # Two "=" cover any missing padding; the decoder ignores what it does not need.
        raw = base64.urlsafe_b64decode(token + "==")
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidRequest(_INVALID) from None
    # `type(...) is int` also refuses what JSON spells as floats (1.0, 1e3, NaN) and booleans.
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and type(value[1]) is int
        and 0 <= value[1] <= MAX_TIMESTAMP
    ):
        raise InvalidRequest(_INVALID)
    token_id, timestamp = value
    # Only the exact bytes we hand out are accepted back (no second spelling of one key).
    try:
        canonical = encode(token_id, timestamp)
    except UnicodeEncodeError:  # a lone surrogate spelled as a JSON escape
        raise InvalidRequest(_INVALID) from None
    if canonical != token:
        raise InvalidRequest(_INVALID)
    if token_id != tracking_id:
        raise InvalidRequest("last_key belongs to another tracking_id")
    return {"tracking_id": token_id, "timestamp": timestamp}
