"""Where the client finds its API, region and credentials, and what installing it brings along."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import boto3
import botocore.session
import pytest

from tracking_client import API_ENDPOINT_OUTPUT, ConfigurationError, TrackingClient
from tracking_client.cli import main
from tracking_templates.names import Outputs

REPO_ROOT = Path(__file__).resolve().parents[2]


def session(region: str | None = None) -> botocore.session.Session:
    made = botocore.session.Session()
    made.set_credentials("testing", "testing")
    if region:
        made.set_config_variable("region", region)
    return made


def test_importing_the_client_loads_nothing_of_the_generator_deploy_or_tests() -> None:
    # GIVEN a fresh interpreter  # WHEN an app imports the client
    code = ("import sys, tracking_client, tracking_client.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code.replace("print(", "import json; print(json.dumps(")
                                            + ")"], capture_output=True, text=True, check=True, cwd=REPO_ROOT).stdout))
    # THEN botocore is there, and none of troposphere, awacs, boto3, moto or the project's other packages
    assert "botocore" in loaded
    assert not loaded & {"troposphere", "awacs", "boto3", "moto", "yaml", "tracking_templates", "scripts", "waitress"}


def test_the_stack_output_name_is_the_templates() -> None:
    assert API_ENDPOINT_OUTPUT == Outputs.API_ENDPOINT


def test_the_console_script_is_installed() -> None:
    (script,) = entry_points(group="console_scripts", name="tracking-client")
    assert script.value == "tracking_client.cli:main"


@pytest.mark.slow
def test_client_alone_installs_with_botocore_only(tmp_path: Path) -> None:
    # GIVEN a copy of the client's project (its pyproject refers to ../tracking_client)
    shutil.copytree(REPO_ROOT / "client", tmp_path / "client", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    shutil.copytree(REPO_ROOT / "tracking_client", tmp_path / "tracking_client",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # WHEN its wheel is built, as `pip install ./client` builds it
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path / "dist"), str(tmp_path / "client")], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("tracking_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    # THEN it requires botocore alone, holds the client's modules alone and has the console script
    assert [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")] == [
        "Requires-Dist: botocore>=1.34"]
    modules = sorted(n for n in names if not n.startswith("tracking_client-"))
    expected = sorted(f"tracking_client/{p.name}" for p in (REPO_ROOT / "tracking_client").glob("*.py"))
    assert modules == expected
    assert "tracking-client = tracking_client.cli:main" in entry


@pytest.mark.parametrize("url, region", [
    ("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod", "eu-west-1"),
    ("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod", "cn-north-1"),
    ("http://127.0.0.1:3000/dev", "ap-south-1"),  # no region in a local URL: the session's
])
def test_the_region_comes_from_the_url_else_the_session(url: str, region: str) -> None:
    assert TrackingClient(url, session("ap-south-1")).region == region


def test_aws_region_is_read_when_the_session_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore itself reads only AWS_DEFAULT_REGION; the docs (and Lambda, and the AWS CLI v2) set AWS_REGION
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert TrackingClient("http://127.0.0.1:3000/dev", session()).region == "eu-central-1"


def test_an_explicit_region_wins() -> None:
    url = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    assert TrackingClient(url, session("ap-south-1"), "us-west-2").region == "us-west-2"


@pytest.mark.parametrize("url", ["127.0.0.1:3000/dev", "ftp://host/dev", "http:///dev", "http://host/dev?x=1", ""])
def test_a_malformed_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="expected http\\(s\\)://HOST\\[:PORT\\]/STAGE"):
        TrackingClient(url, session("us-east-1"))


def test_no_region_and_no_credentials_are_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="^no AWS region to sign for: pass --region or set AWS_REGION$"):
        TrackingClient("http://127.0.0.1:3000/dev", session())
    with pytest.raises(ConfigurationError, match="^no AWS credentials found"):
        TrackingClient("http://127.0.0.1:3000/dev", botocore.session.Session(), "us-east-1")


def test_cli_without_credentials_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code = main(["status", "X", "--url", "http://127.0.0.1:3000/dev", "--region", "us-east-1"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == "error: no AWS credentials found: configure a profile, environment variables or a role\n"


@pytest.mark.parametrize("argv, message", [
    (["status", "X"], "tracking-client: error: pass --url or --stack-name (or set TRACKING_API_URL)"),
    (["status", "X", "--url", "u", "--stack-name", "s"], "{}: error: argument --stack-name: not allowed with argument --url"),
    (["status", "X", "--url", "u", "--limit", "0"], "{}: error: argument --limit: expected a positive integer, got '0'"),
    (["track", "X", "--url", "u", "--status", "pending", "--lat", "1", "--lng", "2", "--metadata", "[1]"],
     "{}: error: argument --metadata: expected a JSON object"),
    (["track", "X", "--url", "u", "--status", "pending", "--lat", "north", "--lng", "2"],
     "{}: error: argument --lat: invalid float value: 'north'"),
])
def test_cli_usage_errors_are_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKING_API_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err == message.format(f"tracking-client {argv[0]}") + " (see --help)\n"


def _stack(endpoint: str, name: str, outputs: dict[str, str]) -> None:
    """A tiny stack whose Outputs are OUTPUTS (create_stack computes them in moto)."""
    template = {"Resources": {"Flags": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/{name}/flags", "Type": "String", "Value": "{}"}}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1").create_stack(
        StackName=name, TemplateBody=json.dumps(template))


def test_the_url_is_read_from_the_stacks_output(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a stack with the template's ApiEndpoint output
    _stack(moto_endpoint, "tracking-dev", {"ApiEndpoint": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev"})
    # WHEN a client is made from the stack's name (the region from AWS_REGION, which botocore alone ignores)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    client = TrackingClient.from_stack("tracking-dev", session(), endpoint_url=moto_endpoint)
    # THEN it calls that URL, signing for its region
    assert (client.url, client.region) == ("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev", "us-east-1")


@pytest.mark.parametrize("outputs, stack, message", [
    ({"TableName": "t"}, "tracking-dev", "error: stack tracking-dev has no ApiEndpoint output (pass --url)"),
    ({}, "tracking-nope", "error: stack tracking-nope: Stack with id tracking-nope does not exist"),
])
def test_cli_stack_without_the_output_or_missing_is_exit_2(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str], outputs: dict, stack: str, message: str,
) -> None:
    _stack(moto_endpoint, "tracking-dev", outputs or {"TableName": "t"})
    code = main(["status", "X", "--stack-name", stack, "--endpoint-url", moto_endpoint, "--region", "us-east-1"])
    assert (code, capsys.readouterr().err) == (2, message + "\n")


def test_the_url_can_come_from_tracking_api_url(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the URL in the environment, where nothing listens
    from tests.scripts.local.support import free_port

    url = f"http://127.0.0.1:{free_port()}/dev"
    monkeypatch.setenv("TRACKING_API_URL", url)
    # WHEN status is asked without --url  # THEN that URL was tried
    assert main(["status", "X", "--region", "us-east-1"]) == 1
    assert capsys.readouterr().err.startswith(f'error: Could not connect to the endpoint URL: "{url}/status?')
