"""Bad AWS settings and values botocore refuses: exit 2 with one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bootstrap, deploy, package

from .deploy_support import FAST, queue_template

# Nothing listens there: a test that reaches the network would fail slowly, not pass.
NOWHERE = "http://127.0.0.1:9"


def _one_line_exit_2(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for text in expected:
        assert text in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--endpoint-url", "notaurl"], "Invalid endpoint: notaurl"),
        (["--endpoint-url", NOWHERE, "--region", "not a region!"], "region"),
    ],
)
def test_malformed_endpoint_or_region_is_a_usage_error(
    flags: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a valid template
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    # WHEN deploying and bootstrapping with an endpoint URL or region botocore cannot use
    deployed = deploy.main(["--stack-name", "ok", "--template-file", str(template), *flags], polling=FAST)
    deploy_err = capsys.readouterr().err
    bootstrapped = bootstrap.main(flags, polling=FAST)
    bootstrap_err = capsys.readouterr().err
    # THEN both exit 2 with one line naming the bad value
    _one_line_exit_2(deployed, deploy_err, expected)
    _one_line_exit_2(bootstrapped, bootstrap_err, expected)


def test_malformed_aws_endpoint_url_variable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN boto3's own AWS_ENDPOINT_URL set to something that is not a URL
    monkeypatch.setenv("AWS_ENDPOINT_URL", "notaurl")
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    # WHEN deploying without --endpoint-url
    code = deploy.main(["--stack-name", "ok", "--template-file", str(template), "--region", "us-east-1"])
    # THEN exit 2, one line that says where to look
    _one_line_exit_2(code, capsys.readouterr().err, "notaurl", "AWS_ENDPOINT_URL")


def test_bucket_name_botocore_refuses_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN packaging for upload to a bucket name S3 cannot have
    code = package.main(
        ["--bucket", "Bad_Bucket!", "--no-deps", "--output-dir", str(tmp_path / "build"),
         "--endpoint-url", NOWHERE, "--region", "us-east-1"]
    )  # fmt: skip
    # THEN exit 2 with botocore's reason on one line (the zips were built; nothing was sent)
    out, err = capsys.readouterr()
    _one_line_exit_2(code, err, "Invalid bucket name", "Bad_Bucket!")
