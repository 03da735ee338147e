"""The command line of `python -m scripts.local`: flags, usage errors, help."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import local

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv, text",
    [
        (["--env", "Prod!"], "invalid environment name"),
        (["--env", "dev\n"], "invalid environment name"),
        (["--port", "70000"], "not in 0..65535"),
        (["--port", "http"], "invalid port"),
        (["--no-such-flag"], "unrecognized arguments"),
        (["--region", "eu west"], "invalid region name"),
        (["--region", ""], "must not be empty"),
        (["--host", ""], "argument --host: must not be empty (see --help)"),
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


def _spawn(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen([sys.executable, "-m", "scripts.local", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_port_in_use_exits_1_with_one_line() -> None:
    # GIVEN a port somebody listens on
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        # WHEN scripts.local is asked to serve there
        process = _spawn("--port", str(busy.getsockname()[1]))
        out, err = process.communicate(timeout=60)
    # THEN it fails fast, before deploying anything: exit 1, one line, no traceback, no URL
    assert process.returncode == 1
    assert out == ""
    assert err.strip().startswith("error: cannot listen on 127.0.0.1:") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_sigterm_stops_cleanly() -> None:
    # GIVEN a running scripts.local (defaults: testing/testing credentials, env dev)
    process = _spawn("--port", "0")
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.endswith("/dev"), process.stderr.read()[-2000:] if not base_url else base_url
        # WHEN it gets SIGTERM (what service managers and `docker stop` send)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # THEN it stops cleanly with exit 0
    assert process.returncode == 0, err[-2000:]
    assert "stopped" in err and "Traceback" not in err
