"""Bad AWS settings and values botocore refuses: exit 2 with one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bootstrap import command as bootstrap
from scripts.deploy import command as deploy
from scripts.package import command as package

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


@pytest.mark.parametrize("where", ["directory", "under-a-file"])
def test_unwritable_outputs_file_is_refused_before_any_call(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an --outputs-file that is a directory, or whose folder is a regular file
    (tmp_path / "a-file").write_text("")
    target = tmp_path if where == "directory" else tmp_path / "a-file" / "outputs.json"
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    # WHEN deploying (to an endpoint where nothing listens)
    code = deploy.main(
        ["--stack-name", "ok", "--template-file", str(template), "--outputs-file", str(target),
         "--endpoint-url", NOWHERE, "--region", "us-east-1"],
        polling=FAST,
    )  # fmt: skip
    # THEN exit 2 naming the flag, before the deploy (not a traceback after it)
    _one_line_exit_2(code, capsys.readouterr().err, "--outputs-file")


def test_outputs_file_that_fails_to_write_after_the_deploy_is_exit_1(tmp_path: Path) -> None:
    # GIVEN a path that cannot be written (its folder is a regular file)
    from scripts.console import Console
    from scripts.errors import DeployError

    (tmp_path / "a-file").write_text("")
    # WHEN writing the outputs there THEN a DeployError (exit 1) naming the file
    with pytest.raises(DeployError, match="cannot write --outputs-file") as raised:
        deploy.write_outputs({"K": "v"}, Console(), tmp_path / "a-file" / "outputs.json")
    assert raised.value.exit_code == 1


def test_unwritable_output_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an --output-dir that is a regular file
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    # WHEN packaging, and deploying the project's template (which has code to package)
    packaged = package.main(["--no-deps", "--output-dir", str(blocked)])
    package_err = capsys.readouterr().err
    deployed = deploy.main(
        ["--stack-name", "ok", "--no-deps", "--output-dir", str(blocked),
         "--endpoint-url", NOWHERE, "--region", "us-east-1"],
        polling=FAST,
    )  # fmt: skip
    deploy_err = capsys.readouterr().err
    # THEN both exit 2 with one line naming the flag (deploy: before any AWS call)
    _one_line_exit_2(packaged, package_err, "--output-dir")
    _one_line_exit_2(deployed, deploy_err, "--output-dir")


def test_parameter_override_outside_its_allowed_pattern_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN deploying the project's template with an Environment its AllowedPattern refuses
    code = deploy.main(
        ["--stack-name", "ok", "--no-deps", "--parameter-overrides", "Environment=BAD",
         "--endpoint-url", NOWHERE, "--region", "us-east-1"],
        polling=FAST,
    )  # fmt: skip
    # THEN exit 2 before any call (moto would accept it; AWS would refuse the change set)
    _one_line_exit_2(code, capsys.readouterr().err, "Environment='BAD'", "pattern")


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "abc"])
def test_timeout_must_be_a_positive_finite_number_of_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN deploying with a --timeout that would time out at once (or never)
    with pytest.raises(SystemExit) as exited:
        deploy.main(["--stack-name", "ok", f"--timeout={value}", "--endpoint-url", NOWHERE])
    # THEN argparse's exit 2, naming the flag and the rule
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "--timeout: must be a positive number of seconds" in err


@pytest.mark.parametrize("setup", ["missing profile", "failing credential_process"])
def test_unusable_credential_configuration_is_a_usage_error(
    setup: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no key in the environment, and a profile that does not exist or cannot give credentials
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\ncredential_process = /bin/false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    if setup == "missing profile":
        monkeypatch.setenv("AWS_PROFILE", "nosuch")
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    # WHEN deploying
    code = deploy.main(["--stack-name", "ok", "--template-file", str(template), "--endpoint-url", NOWHERE],
                       polling=FAST)  # fmt: skip
    # THEN exit 2, as with no credentials at all, one line saying why
    _one_line_exit_2(code, capsys.readouterr().err, "no usable AWS credentials")


def test_ctrl_c_outside_a_wait_claims_nothing_it_does_not_know(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN Ctrl-C while packaging, and while a deploy checks credentials (before any stack call)
    from scripts.aws import Aws

    def ctrl_c(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(package.Packager, "build_all", ctrl_c)
    monkeypatch.setattr(Aws, "check_credentials", ctrl_c)
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    # WHEN each is interrupted
    packaged = package.main(["--no-deps", "--output-dir", str(tmp_path / "build")])
    package_err = capsys.readouterr().err
    deployed = deploy.main(["--stack-name", "ok", "--template-file", str(template), "--endpoint-url", NOWHERE])
    deploy_err = capsys.readouterr().err
    # THEN exit 130 and one line each: packaging touches no stack; the deploy does not claim the
    # stack is changing, only that an operation already started would carry on
    assert (packaged, package_err.strip()) == (130, "interrupted")
    assert deployed == 130 and len(deploy_err.strip().splitlines()) == 1
    assert "may still be changing" not in deploy_err and "already started carries on" in deploy_err
