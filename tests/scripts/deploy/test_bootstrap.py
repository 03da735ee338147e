"""The bootstrap stack: a hardened artifact bucket, created once, idempotent after."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from scripts.bootstrap import command as bootstrap
from scripts.deploy.bootstrap_template import BUCKET_LOGICAL_ID, build_bootstrap_template

from ..deploy_support import FAST, client


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(build_bootstrap_template().to_json())


def test_bucket_is_encrypted_versioned_private_owner_enforced_and_retained(document: dict) -> None:
    # GIVEN the bootstrap template WHEN reading its bucket
    bucket = document["Resources"][BUCKET_LOGICAL_ID]
    props = bucket["Properties"]
    # THEN it is kept on delete and replacement
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    # AND encrypted by default
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    # AND versioned, with old versions expiring
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [lifecycle] = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    # AND closed to the public, ACLs disabled
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_policy_denies_every_request_without_tls(document: dict) -> None:
    # GIVEN the bucket policy
    [policy] = [r for r in document["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    # THEN it denies s3:* on the bucket and its objects when aws:SecureTransport is false
    assert statement["Effect"] == "Deny" and statement["Action"] == ["s3:*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"][0] == {"Fn::GetAtt": [BUCKET_LOGICAL_ID, "Arn"]}
    assert statement["Resource"][1] == {"Fn::Sub": "${%s.Arn}/*" % BUCKET_LOGICAL_ID}
    assert policy["Properties"]["Bucket"] == {"Ref": BUCKET_LOGICAL_ID}


def test_template_is_lint_clean_including_informational_checks() -> None:
    # WHEN cfn-lint checks it with informational rules THEN it reports nothing
    matches = lint(build_bootstrap_template().to_json(), config=ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_bootstrap_creates_the_bucket_then_changes_nothing(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an empty account
    args = ["--endpoint-url", moto_endpoint, "--region", "us-east-1"]
    # WHEN bootstrapping
    assert bootstrap.main(args, polling=FAST) == 0
    # THEN the stack exists and the bucket name is the last line of output
    bucket = capsys.readouterr().out.strip().splitlines()[-1]
    s3 = client(moto_endpoint, "s3")
    s3.head_bucket(Bucket=bucket)  # (moto ignores the versioning and access-block settings)
    cfn = client(moto_endpoint, "cloudformation")
    assert cfn.describe_stacks(StackName="tracking-bootstrap")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    # AND running it again changes nothing and names the same bucket
    assert bootstrap.main(args, polling=FAST) == 0
    again = capsys.readouterr().out
    assert "No changes to deploy" in again and again.strip().splitlines()[-1] == bucket


@pytest.mark.parametrize("name", ["bad_name", "boot\n"])
def test_invalid_stack_name_exits_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN bootstrapping with a name CloudFormation refuses (a trailing newline too)
    # THEN exit 2, one line
    assert bootstrap.main(["--stack-name", name, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "invalid stack name" in err and len(err.strip().splitlines()) == 1
