"""Content-addressed uploads against a moto server: an object planted at a content key is never trusted."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from scripts.aws import ApiCallCounter
from scripts.deploy import command as deploy
from scripts.deploy.project import DeployOptions, deploy_stack
from scripts.package import command as package
from scripts.package.packager import Packager
from scripts.package.s3upload import sha256_checksum
from tracking_templates.names import Resources
from tracking_templates.sources import FUNCTIONS_DIR

from ..deploy_support import FAST, aws_for, client, queue_template

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]
PLANTED = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: not what was reviewed


def _built(out: Path) -> dict[str, Path]:
    """Source-only zips of the project's functions in OUT (as --no-deps builds them)."""
    return {b.function: b.archive.path for b in Packager(FUNCTIONS_DIR, out, bundle_deps=False).build_all()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _planted(endpoint: str, build: Path, prefix: str, *planted: str) -> tuple[Any, dict[str, Path], dict[str, str]]:
    """A bucket "artifacts" where the content keys (under PREFIX) of the functions named in
    PLANTED hold other bytes (with no checksum recorded); the S3 client, the zips, the keys."""
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="artifacts")
    zips = _built(build)
    keys = {name: f"{prefix}/{_sha(path)}.zip" for name, path in zips.items()}
    for name in planted:
        s3.put_object(Bucket="artifacts", Key=keys[name], Body=PLANTED)
    return s3, zips, keys


def _body(s3: Any, key: str) -> bytes:
    return s3.get_object(Bucket="artifacts", Key=key)["Body"].read()


def test_package_replaces_an_object_planted_at_the_content_key_and_says_so(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a bucket where someone computed the zips' keys and put other bytes there first:
    # one without a SHA-256 checksum, one with the checksum of its own (other) bytes
    s3, zips, keys = _planted(moto_endpoint, tmp_path / "build", "code", "tracking")
    s3.put_object(Bucket="artifacts", Key=keys["notifier"], Body=PLANTED, ChecksumAlgorithm="SHA256")
    args = ["--output-dir", str(tmp_path / "build"), "--no-deps", "--bucket", "artifacts", "--prefix", "code",
            "--endpoint-url", moto_endpoint]  # fmt: skip
    # WHEN packaging with --bucket
    assert package.main(args) == 0
    out, err = capsys.readouterr()
    # THEN both keys now hold the built zips, with S3's SHA-256 of them recorded
    for name, key in keys.items():
        assert _body(s3, key) == zips[name].read_bytes()
        head = s3.head_object(Bucket="artifacts", Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == sha256_checksum(zips[name].read_bytes())
    # AND the output says replaced, with a warning naming each key and what was found
    assert sorted(line for line in out.splitlines() if line.startswith("s3://")) == sorted(
        f"s3://artifacts/{key} (replaced: the object found at this key was not this build)" for key in keys.values()
    )
    planted_sum = sha256_checksum(PLANTED)
    assert sorted(err.splitlines()) == sorted([
        f"warning: s3://artifacts/{keys['tracking']} held an object that is not this build (no SHA-256 "
        f"checksum recorded, built {sha256_checksum(zips['tracking'].read_bytes())}): it is never trusted, "
        "the built bytes were uploaded over it",
        f"warning: s3://artifacts/{keys['notifier']} held an object that is not this build (SHA-256 "
        f"{planted_sum}, built {sha256_checksum(zips['notifier'].read_bytes())}): it is never trusted, "
        "the built bytes were uploaded over it",
    ])  # fmt: skip
    # AND a second run finds exactly these bytes: reused, nothing written
    versions = s3.list_object_versions(Bucket="artifacts").get("Versions", [])
    assert package.main(args) == 0
    out, err = capsys.readouterr()
    assert out.count(" (unchanged)\n") == 2 and "replaced" not in out and err == ""
    assert s3.list_object_versions(Bucket="artifacts").get("Versions", []) == versions


def test_deploy_never_reports_a_planted_zip_unchanged_and_the_function_runs_the_built_one(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the API zip's content key already holding other bytes
    _, zips, keys = _planted(moto_endpoint, tmp_path / "build", "tracking-dev", "tracking")
    planted_key = keys["tracking"]
    argv = ["--stack-name", "tracking-dev", "--bucket", "artifacts", "--no-deps", "--region", "us-east-1",
            "--endpoint-url", moto_endpoint, "--output-dir", str(tmp_path / "build")]  # fmt: skip
    # WHEN deploying
    assert deploy.main(argv, polling=FAST) == 0
    out, err = capsys.readouterr()
    # THEN the planted object was replaced, said so, and never called unchanged
    assert f"tracking: s3://artifacts/{planted_key} (replaced: the object found at this key was not this build)" in out
    assert f"notifier: s3://artifacts/{keys['notifier']} (uploaded)" in out
    assert "(unchanged)" not in out
    assert f"warning: s3://artifacts/{planted_key} held an object that is not this build" in err
    # AND the function's code is the built zip (Lambda's CodeSha256), not the planted bytes
    resources = client(moto_endpoint, "cloudformation").describe_stack_resources(StackName="tracking-dev")
    [name] = [r["PhysicalResourceId"] for r in resources["StackResources"]
              if r.get("LogicalResourceId") == Resources.API_FUNCTION]  # fmt: skip
    code_sha = client(moto_endpoint, "lambda").get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    assert code_sha == base64.b64encode(hashlib.sha256(zips["tracking"].read_bytes()).digest()).decode()
    # AND the next deploy finds exactly the built bytes: now it is unchanged, truthfully
    assert deploy.main(argv, polling=FAST) == 0
    assert capsys.readouterr().out.count("(unchanged)") == 2


def test_a_plan_with_no_upload_names_the_keys_and_writes_nothing(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a bucket where the API zip's key holds other bytes and the notifier's is free
    s3, _, keys = _planted(moto_endpoint, tmp_path / "build", "plan", "tracking")
    session = boto3.Session(region_name="us-east-1")
    counter = ApiCallCounter(session)
    options = DeployOptions(stack_name="plan", bucket="artifacts", bundle_deps=False, execute=False, upload=False,
                            output_dir=tmp_path / "build", polling=FAST)  # fmt: skip
    # WHEN planning without uploads
    result = deploy_stack(options, aws_for(moto_endpoint, session))
    # THEN a change set names both keys, nothing was written, and each note says what is there
    assert result.outcome == "not-executed"
    assert counter.count("PutObject") == 0 and counter.count("HeadObject") == 2
    out = capsys.readouterr().out
    assert f"tracking: s3://artifacts/{keys['tracking']} (not uploaded: --no-upload; the object at this key " \
           "is not this build and a deploy will replace it)" in out
    assert f"notifier: s3://artifacts/{keys['notifier']} (not uploaded: --no-upload)" in out
    assert _body(s3, keys["tracking"]) == PLANTED
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]] == [keys["tracking"]]
    parameters = client(moto_endpoint, "cloudformation").describe_change_set(
        ChangeSetName=result.change_set.arn  # type: ignore[union-attr]
    )["Parameters"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in parameters}["CodeKey"] == keys["tracking"]


def test_no_upload_without_no_execute_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN --no-upload would let a change set run code that is not in the bucket THEN exit 2, one line
    code = deploy.main(["--stack-name", "app", "--no-upload", "--endpoint-url", "http://127.0.0.1:9"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --no-upload needs --no-execute: the change set would run code that is not in the bucket\n"
    )


def test_a_template_planted_at_its_content_key_is_replaced_before_the_change_set(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a template too big for TemplateBody, and another template planted at its content key
    s3 = client(moto_endpoint, "s3")
    s3.create_bucket(Bucket="artifacts")
    big = tmp_path / "big.json"
    big.write_text(queue_template(padding=60_000))
    key = f"big/templates/{_sha(big)}.json"
    s3.put_object(Bucket="artifacts", Key=key, Body=queue_template(queue_name="planted").encode())
    # WHEN deploying it
    result = deploy_stack(DeployOptions(stack_name="big", template_file=big, bucket="artifacts", polling=FAST),
                          aws_for(moto_endpoint))  # fmt: skip
    # THEN the stack was made from the real template, which replaced the planted one, with a warning
    assert result.outcome == "deployed"
    assert _body(s3, key) == big.read_bytes()
    queues = client(moto_endpoint, "sqs").list_queues().get("QueueUrls", [])
    assert [url.rsplit("/", 1)[1] for url in queues] == ["orders"]
    assert f"warning: s3://artifacts/{key} held an object that is not this build" in capsys.readouterr().err
    assert json.loads(_body(s3, key))["Parameters"]["QueueName"]["Default"] == "orders"
