"""The deploy fills each function's CodeSha256 and S3 object version from the zip it built and verified."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.deploy import command as deploy
from scripts.deploy.project import DeployOptions, code_parameters, deploy_stack
from scripts.deploy.template import StackTemplate
from scripts.package.packager import UploadedZip
from scripts.package.s3upload import EXISTS, MISSING, REPLACED, UPLOADED, Upload, find_object, upload_object
from tracking_templates.names import Params, Resources

from ..deploy_support import FAST, aws_for, client

SHA_HEX = hashlib.sha256(b"zip").hexdigest()
SHA_B64 = base64.b64encode(hashlib.sha256(b"zip").digest()).decode()


def _zip(function: str = "tracking", version_id: str = "v1", outcome: str = UPLOADED) -> UploadedZip:
    return UploadedZip(function, "b", f"p/{SHA_HEX}.zip", SHA_HEX, outcome, version_id)


def _template(*parameters: str) -> StackTemplate:
    document = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
    }
    return StackTemplate.from_text(json.dumps(document))


def test_code_sha256_is_base64_of_the_digest_as_lambda_reports_it() -> None:
    assert _zip().code_sha256 == SHA_B64
    assert len(SHA_B64) == 44 and SHA_B64.endswith("=")


def test_a_release_template_gets_key_digest_and_object_version_of_each_zip() -> None:
    template = _template(Params.CODE_KEY, Params.CODE_SHA256, Params.CODE_OBJECT_VERSION,
                         Params.NOTIFIER_CODE_KEY, Params.NOTIFIER_CODE_SHA256, Params.NOTIFIER_CODE_OBJECT_VERSION)
    assert code_parameters(template, _zip()) == {
        "CodeKey": f"p/{SHA_HEX}.zip", "CodeSha256": SHA_B64, "CodeObjectVersion": "v1",
    }  # fmt: skip
    assert code_parameters(template, _zip("notifier", "")) == {
        "NotifierCodeKey": f"p/{SHA_HEX}.zip", "NotifierCodeSha256": SHA_B64, "NotifierCodeObjectVersion": "",
    }  # fmt: skip


def test_an_older_template_gets_only_the_parameters_it_declares() -> None:
    # GIVEN a --template-file from before releases: code keys only
    template = _template(Params.CODE_BUCKET, Params.CODE_KEY)
    # THEN neither the digest nor the object version is sent (CloudFormation refuses unknown parameters)
    assert code_parameters(template, _zip()) == {"CodeKey": f"p/{SHA_HEX}.zip"}
    assert code_parameters(_template(), _zip()) == {}


def test_upload_object_names_the_version_holding_the_verified_bytes() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="versioned")
        s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
        # GIVEN a versioned bucket WHEN uploading THEN the new version is named
        first = upload_object(s3, "versioned", "k", b"zip", "application/zip")
        assert first.outcome == UPLOADED and first.version_id
        # WHEN the same bytes are there THEN that (current) version is named, and nothing is written
        assert upload_object(s3, "versioned", "k", b"zip", "application/zip") == Upload(EXISTS, first.version_id)
        assert find_object(s3, "versioned", "k", b"zip").version_id == first.version_id
        # WHEN other bytes were planted on top THEN ours go over them, as a new version
        s3.put_object(Bucket="versioned", Key="k", Body=b"planted")
        replaced = upload_object(s3, "versioned", "k", b"zip", "application/zip", warn=lambda _: None)
        assert replaced.outcome == REPLACED and replaced.version_id not in (None, first.version_id)
        assert s3.get_object(Bucket="versioned", Key="k", VersionId=replaced.version_id)["Body"].read() == b"zip"
        # AND a plan names no version for bytes that are not there
        assert find_object(s3, "versioned", "none", b"zip").outcome == MISSING
        assert find_object(s3, "versioned", "none", b"zip").version_id is None
        # AND an unversioned bucket has none to name
        s3.create_bucket(Bucket="unversioned")
        assert upload_object(s3, "unversioned", "k", b"zip", "application/zip").version_id is None


def _versioned_artifacts(endpoint: str) -> Any:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_bucket_versioning(Bucket="artifacts", VersioningConfiguration={"Status": "Enabled"})
    return s3


def _stack_parameters(endpoint: str, stack: str) -> dict[str, str]:
    described = client(endpoint, "cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described["Parameters"]}


def test_deploy_pins_each_function_to_its_digest_and_object_version(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a versioned artifact bucket (as the bootstrap stack makes on AWS)
    s3 = _versioned_artifacts(moto_endpoint)
    argv = ["--stack-name", "rel", "--bucket", "artifacts", "--no-deps", "--region", "us-east-1",
            "--endpoint-url", moto_endpoint, "--output-dir", str(tmp_path)]  # fmt: skip
    # WHEN deploying
    assert deploy.main(argv, polling=FAST) == 0
    out = capsys.readouterr().out
    # THEN each function's parameters are its zip's key, base64 digest and current object version
    parameters = _stack_parameters(moto_endpoint, "rel")
    for function, key_param, sha_param, version_param in (
        ("tracking", Params.CODE_KEY, Params.CODE_SHA256, Params.CODE_OBJECT_VERSION),
        ("notifier", Params.NOTIFIER_CODE_KEY, Params.NOTIFIER_CODE_SHA256, Params.NOTIFIER_CODE_OBJECT_VERSION),
    ):
        body = (tmp_path / f"{function}.zip").read_bytes()
        head = s3.head_object(Bucket="artifacts", Key=parameters[key_param])
        assert parameters[sha_param] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert parameters[version_param] == head["VersionId"] != ""
        assert f"{function}: s3://artifacts/{parameters[key_param]} (uploaded) version {head['VersionId']}" in out
    # AND the published version runs exactly that code (Lambda's own CodeSha256)
    resources = client(moto_endpoint, "cloudformation").describe_stack_resources(StackName="rel")["StackResources"]
    [version_arn] = [r["PhysicalResourceId"] for r in resources if r.get("LogicalResourceId") == Resources.API_VERSION]
    published = client(moto_endpoint, "lambda").get_function_configuration(FunctionName=version_arn)
    assert published["CodeSha256"] == parameters[Params.CODE_SHA256]
    # WHEN deploying the same code again THEN the same object versions are found: nothing to change
    assert deploy.main(argv, polling=FAST) == 0
    out = capsys.readouterr().out
    assert "No changes to deploy" in out and out.count("(unchanged) version ") == 2
    assert _stack_parameters(moto_endpoint, "rel") == parameters


def test_a_plan_without_upload_leaves_the_object_version_empty_and_says_so(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an empty versioned bucket
    s3 = _versioned_artifacts(moto_endpoint)
    options = DeployOptions(stack_name="plan", bucket="artifacts", bundle_deps=False, execute=False, upload=False,
                            output_dir=tmp_path, polling=FAST)  # fmt: skip
    # WHEN planning with --no-upload
    result = deploy_stack(options, aws_for(moto_endpoint))
    # THEN the change set carries the digests and empty object versions, and the output says why
    change_set: Any = result.change_set
    described = client(moto_endpoint, "cloudformation").describe_change_set(ChangeSetName=change_set.arn)
    sent = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described["Parameters"]}
    body = (tmp_path / "tracking.zip").read_bytes()
    assert sent[Params.CODE_SHA256] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert sent[Params.CODE_OBJECT_VERSION] == sent[Params.NOTIFIER_CODE_OBJECT_VERSION] == ""
    out = capsys.readouterr().out
    assert out.count("(not uploaded: --no-upload), no object version yet: this plan leaves it empty, "
                     "a deploy pins the one it uploads") == 2  # fmt: skip
    assert EXISTS not in out
