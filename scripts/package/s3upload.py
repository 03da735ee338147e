"""Content-addressed uploads that reuse an object only when S3's SHA-256 of it equals ours.

Keys are derived from the content (`<sha256>.zip`), and builds are reproducible, so anyone who
can write the bucket can compute the key the reviewed code will get and put other bytes there
first. Finding the key is therefore not enough: S3 records a SHA-256 of what it stored when
the upload asks for one (`ChecksumAlgorithm`, verified by S3 on the way in), HeadObject returns
it with `ChecksumMode=ENABLED`, and only an object whose recorded checksum equals the local
bytes' is reused. Anything else at the key is overwritten with the real bytes, with a warning.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..errors import DeployError

# What upload_if_missing did.
EXISTS = "exists"  # the object at the key has our checksum: reused
UPLOADED = "uploaded"  # nothing was at the key
REPLACED = "replaced"  # something else was at the key: overwritten, with a warning
# What check_object found (a plan names keys without uploading).
MISSING = "missing"
MISMATCH = "mismatch"
NOT_FOUND_CODES = ("404", "NoSuchKey", "NotFound")
# What each outcome prints after the URI, in parentheses, for package and deploy alike;
# "unchanged" only when the object's SHA-256 is the zip's.
UPLOAD_NOTES = {
    EXISTS: "unchanged",
    UPLOADED: "uploaded",
    REPLACED: "replaced: the object found at this key was not this build",
    MISSING: "not uploaded: --no-upload",
    MISMATCH: "not uploaded: --no-upload; the object at this key is not this build and a deploy will replace it",
}


def object_key(prefix: str, sha256: str, suffix: str = ".zip") -> str:
    """The content-addressed key: PREFIX/<sha256><suffix>."""
    name = f"{sha256}{suffix}"
    return f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name


def sha256_checksum(body: bytes) -> str:
    """S3's form of a SHA-256 checksum: the digest in base64."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


@dataclass(frozen=True)
class Stored:
    """What HeadObject says is at a key: whether anything is, and its recorded SHA-256 if any."""

    exists: bool
    checksum: str | None = None


def stored_object(s3: Any, bucket: str, key: str) -> Stored:
    """HeadObject with checksums: what is at KEY in BUCKET."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error.response["Error"].get("Code") in NOT_FOUND_CODES:
            return Stored(exists=False)
        raise
    return Stored(exists=True, checksum=head.get("ChecksumSHA256"))


def check_object(s3: Any, bucket: str, key: str, body: bytes) -> str:
    """EXISTS (our bytes are there), MISSING or MISMATCH, without uploading anything."""
    stored = stored_object(s3, bucket, key)
    if not stored.exists:
        return MISSING
    return EXISTS if stored.checksum == sha256_checksum(body) else MISMATCH


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def upload_if_missing(
    s3: Any, bucket: str, key: str, body: bytes, content_type: str,
    warn: Callable[[str], None] = _stderr,
) -> str:  # fmt: skip
    """Put BODY at KEY unless an object with BODY's SHA-256 is there; EXISTS, UPLOADED or REPLACED."""
    checksum = sha256_checksum(body)
    stored = stored_object(s3, bucket, key)
    if stored.exists and stored.checksum == checksum:
        return EXISTS
    put = s3.put_object(
        Bucket=bucket, Key=key, Body=body, ContentType=content_type,
        ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum,
    )  # fmt: skip
    if put.get("ChecksumSHA256") not in (None, checksum):
        raise DeployError(f"s3://{bucket}/{key}: S3 stored SHA-256 {put['ChecksumSHA256']}, not ours ({checksum})")
    if not stored.exists:
        return UPLOADED
    found = f"SHA-256 {stored.checksum}" if stored.checksum else "no SHA-256 checksum recorded"
    warn(
        f"warning: s3://{bucket}/{key} held an object that is not this build ({found}, built "
        f"{checksum}): it is never trusted, the built bytes were uploaded over it"
    )
    return REPLACED
