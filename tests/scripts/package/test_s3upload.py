"""Checksum-verified content-addressed uploads, in-process moto (and a Stubber where moto cannot show it)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from scripts.errors import DeployError
from scripts.package.s3upload import (
    EXISTS, MISMATCH, MISSING, REPLACED, UPLOADED, Stored, check_object, object_key, sha256_checksum,
    stored_object, upload_if_missing,
)  # fmt: skip

BODY = b"the reviewed zip"
OTHER = b"planted bytes"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="artifacts")
        yield client


def test_object_key_is_prefix_slash_sha_and_suffix() -> None:
    assert object_key("code", "ab12") == "code/ab12.zip"
    assert object_key("/code/x/", "ab12", ".json") == "code/x/ab12.json"
    assert object_key("", "ab12") == "ab12.zip"
    assert object_key("/", "ab12", "") == "ab12"
    assert object_key("X", "ab12") == "X/ab12.zip"
    assert object_key("Xcode/X", "ab12") == "Xcode/X/ab12.zip"


def test_the_checksum_is_s3s_base64_sha256() -> None:
    assert sha256_checksum(BODY) == base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert sha256_checksum(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_a_missing_key_is_uploaded_with_its_checksum_then_reused(s3: Any) -> None:
    # GIVEN an empty key WHEN uploading THEN UPLOADED, the bytes there with S3's SHA-256 and type
    warnings: list[str] = []
    assert upload_if_missing(s3, "artifacts", "k.zip", BODY, "application/zip", warnings.append) == UPLOADED
    head = s3.head_object(Bucket="artifacts", Key="k.zip", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_checksum(BODY) and head["ContentType"] == "application/zip"
    assert s3.get_object(Bucket="artifacts", Key="k.zip")["Body"].read() == BODY
    # WHEN uploading the same bytes again THEN EXISTS, and nothing is written
    put_count = len(s3.list_object_versions(Bucket="artifacts").get("Versions", []))
    assert upload_if_missing(s3, "artifacts", "k.zip", BODY, "application/zip", warnings.append) == EXISTS
    assert len(s3.list_object_versions(Bucket="artifacts").get("Versions", [])) == put_count
    assert stored_object(s3, "artifacts", "k.zip") == Stored(True, sha256_checksum(BODY))
    assert warnings == []


@pytest.mark.parametrize("recorded", [False, True])
def test_other_bytes_at_the_key_are_replaced_with_a_warning_naming_it(s3: Any, recorded: bool) -> None:
    # GIVEN other bytes at the key, with or without a SHA-256 recorded
    extra = {"ChecksumAlgorithm": "SHA256"} if recorded else {}
    s3.put_object(Bucket="artifacts", Key="code/k.zip", Body=OTHER, **extra)
    warnings: list[str] = []
    # WHEN uploading THEN REPLACED, our bytes are there, and one warning says what was found
    assert upload_if_missing(s3, "artifacts", "code/k.zip", BODY, "application/zip", warnings.append) == REPLACED
    assert s3.get_object(Bucket="artifacts", Key="code/k.zip")["Body"].read() == BODY
    found = f"SHA-256 {sha256_checksum(OTHER)}" if recorded else "no SHA-256 checksum recorded"
    assert warnings == [
        f"warning: s3://artifacts/code/k.zip held an object that is not this build ({found}, built "
        f"{sha256_checksum(BODY)}): it is never trusted, the built bytes were uploaded over it"
    ]


def test_warnings_go_to_stderr_by_default(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3.put_object(Bucket="artifacts", Key="k.zip", Body=OTHER)
    assert upload_if_missing(s3, "artifacts", "k.zip", BODY, "application/zip") == REPLACED
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("warning: s3://artifacts/k.zip held an object") and err.count("\n") == 1


def test_check_object_tells_exists_missing_and_mismatch_without_writing(s3: Any) -> None:
    # GIVEN one key with our bytes (and checksum), one with other bytes, one empty
    upload_if_missing(s3, "artifacts", "ours", BODY, "application/zip")
    s3.put_object(Bucket="artifacts", Key="theirs", Body=OTHER, ChecksumAlgorithm="SHA256")
    versions = s3.list_object_versions(Bucket="artifacts").get("Versions", [])
    # WHEN checked THEN each is named, and nothing was written
    assert check_object(s3, "artifacts", "ours", BODY) == EXISTS
    assert check_object(s3, "artifacts", "theirs", BODY) == MISMATCH
    assert check_object(s3, "artifacts", "none", BODY) == MISSING
    assert stored_object(s3, "artifacts", "none") == Stored(False, None)
    assert s3.list_object_versions(Bucket="artifacts").get("Versions", []) == versions


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return client, Stubber(client)


@pytest.mark.parametrize("code", ["404", "NoSuchKey", "NotFound"])
def test_every_not_found_code_means_missing(code: str) -> None:
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code=code, http_status_code=404,
                          expected_params={"Bucket": "b", "Key": "k", "ChecksumMode": "ENABLED"})  # fmt: skip
    with stub:
        assert stored_object(client, "b", "k") == Stored(False)


def test_another_head_error_is_raised_not_taken_for_missing() -> None:
    # GIVEN HeadObject refused (no s3:GetObject) WHEN checking THEN the error surfaces
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
    with stub, pytest.raises(ClientError, match="403"):
        stored_object(client, "b", "k")


def test_the_upload_asks_s3_to_verify_sha256_and_a_different_stored_checksum_fails() -> None:
    # GIVEN S3 answering a PutObject with a checksum that is not ours (AWS-shaped responses)
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stub.add_response(
        "put_object", {"ETag": '"x"', "ChecksumSHA256": sha256_checksum(OTHER)},
        expected_params={"Bucket": "b", "Key": "k", "Body": BODY, "ContentType": "application/zip",
                         "ChecksumAlgorithm": "SHA256", "ChecksumSHA256": sha256_checksum(BODY)},
    )  # fmt: skip
    # WHEN uploading THEN a deploy error naming the key and both checksums
    with stub, pytest.raises(DeployError) as error:
        upload_if_missing(client, "b", "k", BODY, "application/zip")
    assert str(error.value) == (
        f"s3://b/k: S3 stored SHA-256 {sha256_checksum(OTHER)}, not ours ({sha256_checksum(BODY)})"
    )
