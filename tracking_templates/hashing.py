"""Short, stable hashes of resource definitions: what makes a logical id or a Version change."""

from __future__ import annotations

import binascii
import json

from troposphere import AWSObject


def _crc(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return f"{binascii.crc32(text.encode('utf-8')):08x}"


def definition_hash(*objects: AWSObject) -> str:
    """A short, stable hash of these resources' definitions (ids, types and properties).

    CRC-32 is enough to tell one definition from the next (a change goes unnoticed with odds of
    1 in 4 billion) and, unlike hashlib, costs no OpenSSL load on every synth; binascii's CRC-32
    (zlib's, same value) is already loaded by troposphere's imports.
    """
    return _crc([(o.title, o.to_dict()) for o in objects])


def properties_hash(resource: AWSObject, *, leave_out: tuple[str, ...] = ()) -> str:
    """A short, stable hash of one resource's Properties, without those named in leave_out."""
    properties = resource.to_dict().get("Properties", {})
    return _crc({name: value for name, value in properties.items() if name not in leave_out})
