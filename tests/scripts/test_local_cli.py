"""The command line of `python -m scripts.local`: flags, usage errors, help."""

from __future__ import annotations

import pytest

from scripts import local


@pytest.mark.parametrize(
    "argv, text",
    [
        (["--env", "Prod!"], "invalid environment name"),
        (["--port", "70000"], "not in 0..65535"),
        (["--port", "http"], "invalid port"),
        (["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv: list[str], text: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a bad flag  # WHEN main runs
    with pytest.raises(SystemExit) as exited:
        local.main(argv)
    # THEN exit 2, one line on stderr naming the problem, nothing on stdout
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and text in err


def test_defaults_are_the_contracts() -> None:
    # GIVEN no flags  # THEN the contract's defaults
    args = local.build_parser().parse_args([])
    assert (args.host, args.port, args.env, args.region) == ("127.0.0.1", 3000, "dev", "us-east-1")


def test_help_explains_signing(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN --help  # WHEN printed
    with pytest.raises(SystemExit) as exited:
        local.main(["--help"])
    out = capsys.readouterr().out
    # THEN it says how to sign (awscurl and botocore) and exits 0
    assert exited.value.code == 0
    for needle in ("--service execute-api", "SigV4Auth", "AWS_ACCESS_KEY_ID", "testing", "403"):
        assert needle in out
