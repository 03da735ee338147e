"""Deploys that cannot hurt production, over real HTTP against the moto server (and a fake endpoint)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.aws import Aws, AwsTarget
from scripts.errors import DeployError
from scripts.bootstrap import command as bootstrap
from scripts.deploy import command as deploy
from scripts.package import command as package

from ..deploy_support import FAST, client, queue_template

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]


def _deploy(endpoint: str, tmp_path: Path, *extra: str) -> int:
    return deploy.main(
        ["--endpoint-url", endpoint, "--region", "us-east-1", "--output-dir", str(tmp_path / "build"), *extra],
        polling=FAST,
    )


def _template_with(tmp_path: Path, name: str, **resources: dict) -> Path:
    document = json.loads(queue_template(**{"Environment": "dev"}))
    document["Resources"].update(resources)
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


SETTING = {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/shop/setting", "Type": "String", "Value": "on"}}
TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {"BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
}  # fmt: skip


def _stacks_named(endpoint: str, name: str) -> list[tuple[str, str]]:
    summaries = client(endpoint, "cloudformation").list_stacks()["StackSummaries"]
    return [(s["StackId"], s["StackStatus"]) for s in summaries
            if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"]  # fmt: skip


def test_plan_then_deploy_twice_converges_on_one_live_stack(moto_endpoint: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # GIVEN a new stack whose template has a fixed-name SSM parameter, planned with --no-execute
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = _template_with(tmp_path, "t.json", Setting=SETTING)
    args = ["--stack-name", "fresh", "--bucket", "artifacts", "--template-file", str(template)]
    assert _deploy(moto_endpoint, tmp_path, *args, "--no-execute") == 0
    # WHEN deploying it, then again, then once more (moto made a second stack beside the review one)
    codes = [_deploy(moto_endpoint, tmp_path, *args) for _ in range(3)]
    # THEN every run exits 0, and one live stack of that name is left: no review stack beside it
    assert codes == [0, 0, 0], capsys.readouterr().err
    [(stack_id, status)] = _stacks_named(moto_endpoint, "fresh")
    assert status == "CREATE_COMPLETE"
    out = capsys.readouterr().out
    assert out.count("Removed the orphaned review stack fresh") == 1
    assert out.count("No changes to deploy. Stack fresh") == 2


def test_a_review_stack_beside_a_live_one_is_removed_and_the_live_one_updated(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN what a deploy without this fix left on the emulator: a CREATE change set kept for
    # review (stack A), then another CREATE executed beside it (stack B, live); DescribeStacks by
    # name now answers with A
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = _template_with(tmp_path, "t.json", Setting=SETTING)
    args = ["--stack-name", "shop", "--bucket", "artifacts", "--template-file", str(template)]
    cfn = client(moto_endpoint, "cloudformation")
    review = cfn.create_change_set(StackName="shop", ChangeSetName="plan", ChangeSetType="CREATE",
                                   TemplateBody=template.read_text())["StackId"]  # fmt: skip
    live = cfn.create_change_set(StackName="shop", ChangeSetName="run", ChangeSetType="CREATE",
                                 TemplateBody=template.read_text())  # fmt: skip
    cfn.execute_change_set(ChangeSetName=live["Id"])
    assert cfn.describe_stacks(StackName="shop")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    # WHEN deploying a changed template
    changed = _template_with(tmp_path, "t2.json", Setting={**SETTING, "Properties": {**SETTING["Properties"], "Value": "off"}})
    assert _deploy(moto_endpoint, tmp_path, *args[:-1], str(changed)) == 0, capsys.readouterr().err
    # THEN the review stack is gone and the live stack was updated
    assert _stacks_named(moto_endpoint, "shop") == [(live["StackId"], "UPDATE_COMPLETE")]
    assert cfn.describe_stacks(StackName=review)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert client(moto_endpoint, "ssm").get_parameter(Name="/shop/setting")["Parameter"]["Value"] == "off"


def test_changing_the_environment_of_a_live_stack_is_refused_before_any_change_set(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live stack deployed with --env qa
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = _template_with(tmp_path, "t.json")
    args = ["--stack-name", "shop", "--bucket", "artifacts", "--template-file", str(template)]
    assert _deploy(moto_endpoint, tmp_path, *args, "--env", "qa") == 0
    cfn = client(moto_endpoint, "cloudformation")
    before = cfn.list_change_sets(StackName="shop")["Summaries"]
    capsys.readouterr()
    # WHEN deploying --env prod to it
    code = _deploy(moto_endpoint, tmp_path, *args, "--env", "prod")
    # THEN exit 2, one line naming both environments and the way out; no change set was made
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "stack shop is Environment='qa', not 'prod'" in err and "to its own stack (another --stack-name)" in err
    assert cfn.list_change_sets(StackName="shop")["Summaries"] == before
    # AND the same environment deploys as before
    assert _deploy(moto_endpoint, tmp_path, *args, "--env", "qa") == 0


def test_tables_get_a_stack_policy_and_prod_asks_for_termination_protection(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a template with a table, deployed as prod (moto lacks UpdateTerminationProtection)
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = _template_with(tmp_path, "t.json", Orders=TABLE)
    code = _deploy(moto_endpoint, tmp_path, "--stack-name", "shop", "--bucket", "artifacts",
                   "--template-file", str(template), "--env", "prod")  # fmt: skip
    # THEN deployed (exit 0), the emulator's missing call only a warning
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "warning: the endpoint does not support UpdateTerminationProtection; stack shop is not protected" in err
    # AND the stack policy denies replacing or deleting the table, allows the rest
    policy = json.loads(client(moto_endpoint, "cloudformation").get_stack_policy(StackName="shop")["StackPolicyBody"])
    assert policy["Statement"][1] == {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"],
                                      "Principal": "*", "Resource": ["LogicalResourceId/Orders"]}  # fmt: skip


def test_no_execute_hint_reaches_the_same_region_and_endpoint(moto_endpoint: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = _template_with(tmp_path, "t.json")
    assert _deploy(moto_endpoint, tmp_path, "--stack-name", "shop", "--bucket", "artifacts",
                   "--template-file", str(template), "--no-execute") == 0  # fmt: skip
    [hint] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Not executed")]
    [summary] = client(moto_endpoint, "cloudformation").list_change_sets(StackName="shop")["Summaries"]
    assert hint == (f"Not executed (--no-execute). To apply it: aws cloudformation execute-change-set "
                    f"--change-set-name {summary['ChangeSetId']} --region us-east-1 --endpoint-url {moto_endpoint}")  # fmt: skip


class _NotAws(BaseHTTPRequestHandler):
    """Answers every request with a 200 that is not AWS's XML (a web page or a JSON service)."""

    body = b""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = do_HEAD = do_POST  # noqa: N815

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(params=[b"<!doctype html><html><body>Welcome</body></html>", b'{"ok": true}'], ids=["html", "json"])
def not_aws(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (_NotAws,), {"body": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_endpoint_that_is_not_aws_is_one_line_exit_1(not_aws: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    deployed = deploy.main(["--stack-name", "ok", "--template-file", str(template), "--bucket", "b",
                            "--endpoint-url", not_aws], polling=FAST)  # fmt: skip
    deploy_err = capsys.readouterr().err
    bootstrapped = bootstrap.main(["--endpoint-url", not_aws], polling=FAST)
    bootstrap_err = capsys.readouterr().err
    for code, err in ((deployed, deploy_err), (bootstrapped, bootstrap_err)):
        assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("error: the endpoint's answer is not an AWS API response (")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--endpoint-url", ""], "Invalid endpoint: '' (empty, which would silently mean real AWS"),
        (["--endpoint-url", "http://127.0.0.1:99999"], "Invalid endpoint: http://127.0.0.1:99999 (Port out of range"),
        (["--endpoint-url", "http://127.0.0.1:port"], "Invalid endpoint: http://127.0.0.1:port (Port could not be cast"),
    ],
)
def test_empty_or_portless_endpoints_are_usage_errors(flags: list[str], expected: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    runs = [
        lambda: deploy.main(["--stack-name", "ok", "--template-file", str(template), *flags], polling=FAST),
        lambda: bootstrap.main(flags, polling=FAST),
        lambda: package.main(["--no-deps", "--output-dir", str(tmp_path / "b"), "--bucket", "b", *flags]),
    ]
    for main in runs:
        code = main()
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err


@pytest.mark.parametrize(
    ("main", "argv", "expected"),
    [
        (deploy.main, ["--stack-name", "ok", "--bucket", ""], "argument --bucket: must not be empty (see --help)"),
        (deploy.main, ["--stack-name", "ok", "--output-dir", " "], "argument --output-dir: must not be empty"),
        (deploy.main, ["--stack-name", "ok", "--outputs-file", ""], "argument --outputs-file: must not be empty"),
        (deploy.main, ["--stack-name", "ok", "--template-file", ""], "argument --template-file: must not be empty"),
        (deploy.main, ["--env", "dev"], "the following arguments are required: --stack-name (or stack_name in "
                                        "[environments.dev.deploy] of tracking.toml) (see --help)"),
        (package.main, ["--bucket", ""], "argument --bucket: must not be empty"),
        (package.main, ["--prefix", "p"], "--prefix needs --bucket (see --help)"),
        (bootstrap.main, ["--region", ""], "argument --region: must not be empty"),
    ],
)
def test_usage_errors_are_one_line_pointing_at_help(main, argv: list[str], expected: str,  # noqa: ANN001
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert expected in line and line.endswith("(see --help)") and "usage:" not in err


def _this_machines_outward_address() -> str:
    """An address of this machine that is not loopback (the interface a packet out would use)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: picks the route, sends nothing
        except OSError:
            pytest.skip("no network interface besides loopback")
        return probe.getsockname()[0]


def test_an_unreachable_endpoint_says_it_is_retrying(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a remote-looking endpoint where nothing listens and 2 attempts (one retry); was
    # 127.0.0.1, which is now refused at once (next test)
    host = _this_machines_outward_address()
    aws = Aws(AwsTarget(region="us-east-1", endpoint_url=f"http://{host}:9", max_attempts=2))
    # WHEN a call fails to connect THEN each retry is announced on stderr, not the final failure
    with pytest.raises(Exception, match="Could not connect"):
        aws.client("cloudformation").describe_stacks()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("cannot reach the endpoint (Could not connect to the endpoint URL")
    assert lines[0].endswith("retrying (attempt 1 of 2)")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_refused_local_endpoint_fails_at_once(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an endpoint on this machine where nothing listens, and botocore's 10 attempts
    aws = Aws(AwsTarget(region="us-east-1", endpoint_url=f"http://{host}:9"))
    # WHEN a call fails to connect THEN no retry: one error saying what to do, nothing announced
    with pytest.raises(DeployError) as raised:
        aws.client("cloudformation").describe_stacks()
    assert str(raised.value) == (
        f"cannot reach http://{host}:9/: nothing listens on this machine at that address (start the emulator "
        "first, e.g. python -m moto.server -p PORT, or check --endpoint-url / AWS_ENDPOINT_URL)"
    )
    assert capsys.readouterr().err == ""


def test_bootstrap_to_a_closed_local_port_is_one_line_within_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a local port where nothing listens  WHEN the bootstrap is pointed at it
    import time

    from ..local.support import free_port

    started = time.monotonic()
    code = bootstrap.main(["--endpoint-url", f"http://127.0.0.1:{free_port()}", "--region", "us-east-1"])
    # THEN exit 1 at the first refusal (it took 27 s of retries), one line on stderr
    assert code == 1
    assert time.monotonic() - started < 5
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: cannot reach http://127.0.0.1:") and "nothing listens" in line
