"""The opaque GET /shipments page token: where each shard of one status's listing stands.

A listing page merges N shard queries, so resuming needs N positions. Each is the exclusive
upper bound of the next query's rank (see listing.py): `TOP` before the first page, the rank
of the last item the shard gave, or `EXHAUSTED` once it has nothing left (it is not queried
again). The token is base64url (no padding) of

    version (1 byte) | N (1 byte) | len(status) (1 byte) | status (UTF-8) | N x 14-byte bounds

14 bytes hold a rank: 48 bits of epoch milliseconds (until the year 10889) and a 64-bit hash;
numbers are big-endian (`int.to_bytes`' default since Python 3.11), text UTF-8.
For prod's 16 shards that is about 320 characters. The token names the status it was issued
for: one for another status, another shard count, or in any spelling but exactly what `encode`
writes, is refused.
"""

from __future__ import annotations

import base64

from .errors import InvalidRequest

VERSION = 1
POSITION_BYTES = 14
TOP = 2 ** (8 * POSITION_BYTES) - 1  # no rank is this high: the whole shard lies below it
EXHAUSTED = 0  # no rank is below it: the shard is done
MAX_SHARDS = 255
MAX_STATUS_BYTES = 255
# The longest token encode writes (255 shards, a 255-byte status), in base64 characters.
MAX_TOKEN_CHARS = -(-(3 + MAX_STATUS_BYTES + MAX_SHARDS * POSITION_BYTES) * 4 // 3)
_INVALID = "last_key is not a valid page token"


def first_page(shards: int) -> tuple[int, ...]:
    """The positions of a listing's first page: every shard from its top."""
    return (TOP,) * shards


def encode(status: str, positions: tuple[int, ...]) -> str:
    """The token for the page after `positions` of `status`'s listing."""
    name = status.encode()
    if not 1 <= len(positions) <= MAX_SHARDS or len(name) > MAX_STATUS_BYTES:
        raise ValueError("a token holds 1..255 shards and a status of at most 255 bytes")
    raw = bytes((VERSION, len(positions), len(name))) + name
    raw += b"".join(position.to_bytes(POSITION_BYTES) for position in positions)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(token: str, status: str, shards: int) -> tuple[int, ...]:
    """The shard positions a token stands for, if it is well-formed, current and for `status`."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise InvalidRequest(_INVALID)
    try:
        # Padding was stripped; base64 ignores any beyond what it needs, so two always do. A
        # character outside the alphabet is skipped here and refused by the round trip below.
        raw = base64.urlsafe_b64decode(token + "==")
    except ValueError:  # binascii.Error (a length base64 cannot have) or a non-ASCII character
        raise InvalidRequest(_INVALID) from None
    if len(raw) < 3 or raw[0] != VERSION or raw[1] != shards:
        raise InvalidRequest(_INVALID)
    name_end = 3 + raw[2]
    if len(raw) != name_end + shards * POSITION_BYTES:
        raise InvalidRequest(_INVALID)
    try:
        token_status = raw[3:name_end].decode()
    except UnicodeDecodeError:
        raise InvalidRequest(_INVALID) from None
    positions = tuple(
        int.from_bytes(raw[start : start + POSITION_BYTES])
        for start in range(name_end, len(raw), POSITION_BYTES)
    )
    # Only the exact characters we hand out come back: base64 skips others and has spare bits.
    if encode(token_status, positions) != token:
        raise InvalidRequest(_INVALID)
    if token_status != status:
        raise InvalidRequest("last_key belongs to another status")
    return positions
