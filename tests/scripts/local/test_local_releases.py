"""The local stack hosts the release template: aliases, versions, CodeDeploy groups; callers run the alias's version."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from scripts.deploy import command as deploy
from scripts.deploy.project import DeployOptions, deploy_stack
from scripts.local.gateway.app import assemble
from scripts.local.gateway.routes import rest_api_from_template
from scripts.local.gateway.sigv4 import Credentials
from scripts.local.gateway.stack import Clients, deployed_stack, function_config
from scripts.local.gateway.streams import stream_mappings
from tracking_templates.names import LIVE_ALIAS, Resources
from tracking_templates.sources import FUNCTIONS_DIR

from ...conftest import REPO_ROOT
from ..deploy_support import FAST, aws_for, client
from .support import free_port, isolated_environ


def _deploy(endpoint: str, tmp_path: Path, env: str, *extra: str) -> int:
    return deploy.main(["--stack-name", f"rel-{env}", "--env", env, "--no-deps", "--region", "us-east-1",
                        "--endpoint-url", endpoint, "--output-dir", str(tmp_path), *extra], polling=FAST)  # fmt: skip


def _template(endpoint: str, stack: str) -> dict[str, Any]:
    body = client(endpoint, "cloudformation").get_template(StackName=stack)["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def _release_a_code_change(endpoint: str, tmp_path: Path, release: str = "next") -> None:
    """Deploy rel-dev from a copy of functions/ whose tracking handler changed (a new version)."""
    functions = tmp_path / f"functions-{release}"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    with (functions / "tracking" / "handler.py").open("a", encoding="utf-8") as handler:
        handler.write(f"# release {release}\n")
    options = DeployOptions(stack_name="rel-dev", env="dev", bundle_deps=False, output_dir=tmp_path / release,
                            functions_dir=functions, polling=FAST)  # fmt: skip
    assert deploy_stack(options, aws_for(endpoint)).outcome == "deployed"


def test_callers_invoke_the_alias_and_run_the_version_it_points_to(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # GIVEN the dev stack deployed into the suite's emulator (scripts.local's)
    assert _deploy(moto_endpoint, tmp_path, "dev") == 0
    template = _template(moto_endpoint, "rel-dev")
    stack = deployed_stack(Clients(boto3.Session(region_name="us-east-1")), "rel-dev", template)
    # THEN every API route and the stream mapping call the alias
    routes = rest_api_from_template(stack.resolver).routes
    assert {route.function for route in routes} == {Resources.API_ALIAS}
    assert [m.function for m in stream_mappings(stack.resolver)] == [Resources.NOTIFIER_ALIAS]
    # AND an invocation through it runs as the alias: its ARN, the version it points to
    api = function_config(stack, Resources.API_ALIAS)
    function_name = stack.physical_ids[Resources.API_FUNCTION]
    assert api.arn == f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}:{LIVE_ALIAS}"
    assert api.version == "1" and api.name == function_name and api.handler == "handler.main"
    # WHEN a code change is released
    _release_a_code_change(moto_endpoint, tmp_path)
    # THEN the alias moved to it, and the local gateway runs that version
    lam = client(moto_endpoint, "lambda")
    assert lam.get_alias(FunctionName=function_name, Name=LIVE_ALIAS)["FunctionVersion"] == "2"
    assert function_config(stack, Resources.API_ALIAS).version == "2"
    with isolated_environ():
        app = assemble(boto3.Session(region_name="us-east-1"), "rel-dev", template, "localhost",
                       Credentials("testing", "testing", None), streams=False)  # fmt: skip
        [invoked] = app.gateway._functions.values()  # what the routes invoke, keyed by the alias
        assert invoked.config.version == "2" and invoked.config.arn.endswith(f":{function_name}:{LIVE_ALIAS}")
    # AND the previous version stays (Retain), for a rollback by hand
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=function_name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]


def test_emulator_only_hosts_every_environments_template(tmp_path: Path) -> None:
    # GIVEN `python -m scripts.local --emulator-only` (its own process: nothing registered here counts)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "scripts.local", "--emulator-only", "--port", str(port)],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        # THEN its first line is its URL
        url = process.stdout.readline().decode().strip()  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{port}"
        # AND each environment's template deploys into it as written
        for env_name in ("dev", "staging", "prod"):
            assert _deploy(url, tmp_path, env_name) == 0, env_name
            resources = client(url, "cloudformation").describe_stack_resources(StackName=f"rel-{env_name}")
            [notifier] = [r["PhysicalResourceId"] for r in resources["StackResources"]
                          if r.get("LogicalResourceId") == Resources.NOTIFIER_FUNCTION]  # fmt: skip
            aliases = client(url, "lambda").list_aliases(FunctionName=notifier)["Aliases"]
            assert [(a["Name"], a["FunctionVersion"]) for a in aliases] == [(LIVE_ALIAS, "1")]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    # AND it stops cleanly on Ctrl-C
    assert process.returncode == 0, err.decode()[-2000:]


def test_a_release_prunes_versions_beyond_the_environments_keep_count(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the dev stack (keeps 3 versions) on version 1, and two more published since (2, 3)
    assert _deploy(moto_endpoint, tmp_path, "dev") == 0
    lam = client(moto_endpoint, "lambda")
    resources = client(moto_endpoint, "cloudformation").describe_stack_resources(StackName="rel-dev")["StackResources"]
    [name] = [r["PhysicalResourceId"] for r in resources if r.get("LogicalResourceId") == Resources.API_FUNCTION]
    for release in ("2", "3"):
        lam.update_function_code(FunctionName=name, ZipFile=f"release {release}".encode())
        assert lam.publish_version(FunctionName=name)["Version"] == release
    capsys.readouterr()
    # WHEN a code change is deployed (version 4, the alias moved to it)
    _release_a_code_change(moto_endpoint, tmp_path)
    # THEN version 1, older than the newest 3 and no longer the alias's, is deleted; nothing else
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2", "3", "4"]
    assert lam.get_alias(FunctionName=name, Name=LIVE_ALIAS)["FunctionVersion"] == "4"
    assert f"Pruned versions 1 of {name} (keeping the newest 3)\n" in capsys.readouterr().out
    # WHEN the next release follows THEN it is version 5, as Lambda numbers (never a number in use)
    _release_a_code_change(moto_endpoint, tmp_path, "5")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST", "3", "4", "5"]  # fmt: skip
    assert lam.get_alias(FunctionName=name, Name=LIVE_ALIAS)["FunctionVersion"] == "5"


def test_emulator_only_on_a_busy_port_is_exit_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a port something listens on
    from scripts.local.command import main

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        # WHEN starting the emulator there THEN exit 1 at once (moto's own start would wait for ever)
        assert main(["--emulator-only", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert err.count("\n") == 1
