"""The command line of `python -m scripts.local`: flags, usage errors, help."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts.local import command as local

from .support import Client, signed_headers

REPO_ROOT = Path(__file__).resolve().parents[3]


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
    # THEN it says how to sign (the project's client, and curl for the raw HTTP) and exits 0
    assert exited.value.code == 0
    for needle in ("python -m tracking_client", "curl --aws-sigv4 aws:amz:us-east-1:execute-api", "AWS_ACCESS_KEY_ID",
                   "testing", "403"):
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


@contextlib.contextmanager
def _running(stderr_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, Client]]:
    """scripts.local on a free port, stderr to a file (a pipe nobody reads would fill), and a client of it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env or {})
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "scripts.local", "--port", "0"], cwd=REPO_ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    client = None
    try:
        base_url = process.stdout.readline().strip()
        if not base_url:
            process.wait(60)
            pytest.fail(f"scripts.local exited {process.returncode}: {stderr_path.read_text()[-3000:]}")
        client = Client(base_url)
        yield process, client
    finally:
        if client is not None:
            client.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def _update(tracking_id: str, status: str) -> dict:
    return {"tracking_id": tracking_id, "status": status, "location": {"lat": 52.52, "lng": 13.405}}


def _wait_for_line(path: Path, needle: str, timeout: float = 20.0) -> None:
    """Wait until the server's stderr holds a line with needle (its handler logged it)."""
    deadline = time.monotonic() + timeout
    while needle not in path.read_text(encoding="utf-8"):
        if time.monotonic() > deadline:
            pytest.fail(f"no line with {needle} in {timeout} s: {path.read_text(encoding='utf-8')[-2000:]}")
        time.sleep(0.02)


def _notified(stderr: str) -> list[str]:
    """tracking_id of every notification the notifier logged as published."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("{") and '"Notification published"' in line:
            found.append(json.loads(line)["tracking_id"])
    return found


@pytest.mark.slow
def test_sigterm_with_updates_in_flight_finishes_them_and_delivers_their_notifications(tmp_path: Path) -> None:
    # GIVEN a running scripts.local that accepted 7 delivered updates and is serving an 8th
    stderr_path = tmp_path / "stderr.log"
    with _running(stderr_path) as (process, client):
        base_url = client.base_url
        ids = [f"DRAIN-{n}" for n in range(8)]
        for tracking_id in ids[:-1]:
            assert client.call("POST", "/track", _update(tracking_id, "delivered")).status == 200
        body = json.dumps(_update(ids[-1], "delivered")).encode()
        client.connection.request("POST", urlsplit(base_url).path + "/track", body=body,
                                  headers=signed_headers("POST", base_url + "/track", body))
        # WHEN it gets SIGTERM once the 8th has reached the handler (signalled earlier, a loaded machine
        # may not have read the request yet: then it is not in flight but unsent, and is refused)
        _wait_for_line(stderr_path, f'"tracking_id":"{ids[-1]}"')
        process.send_signal(signal.SIGTERM)
        answer = client.connection.getresponse()
        last = (answer.status, json.loads(answer.read()))
        process.wait(timeout=30)
    err = stderr_path.read_text(encoding="utf-8")
    # THEN the 8th got its answer, every update was notified before the exit, and it stopped cleanly
    assert last[0] == 200 and last[1]["tracking_id"] == ids[-1]
    assert sorted(_notified(err)) == ids, err[-3000:]
    assert process.returncode == 0
    assert "not delivered" not in err and "no answer" not in err and "Traceback" not in err
    assert "state is in memory and ends with this process" in err
    assert err.rstrip().endswith("stopped")


@pytest.mark.slow
def test_stale_aws_settings_in_the_shell_do_not_stop_it(tmp_path: Path) -> None:
    # GIVEN a shell with a profile whose credential process fails, a missing credentials file and a
    # service endpoint left over from another project
    config = tmp_path / "config"
    config.write_text("[profile stale]\ncredential_process = /bin/false\nregion = eu-west-3\n", encoding="utf-8")
    stale = {"AWS_PROFILE": "stale", "AWS_CONFIG_FILE": str(config),
             "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing"), "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
    # WHEN scripts.local starts there
    with _running(tmp_path / "stderr.log", stale) as (process, client):
        # THEN it serves: an update is stored in the emulated table and read back
        assert client.call("POST", "/track", _update("STALE-1", "in_transit")).status == 200
        got = client.call("GET", "/status?tracking_id=STALE-1")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert (got.status, got.json["count"]) == (200, 1)
    assert process.returncode == 0
