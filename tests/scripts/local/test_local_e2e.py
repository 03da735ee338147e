"""End to end over real HTTP: `python -m scripts.local` as a subprocess, requests signed with botocore."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from .support import Client, free_port, port_is_free

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_S = 120


@dataclass
class LocalApi:
    """The running `scripts.local` process, its base URL and its stderr log file."""

    process: subprocess.Popen
    base_url: str
    port: int
    stderr_path: Path

    def stderr(self) -> str:
        """Everything the process wrote to stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def local_api() -> Iterator[LocalApi]:
    """One `python -m scripts.local` for the whole module (startup deploys a whole stack)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    with tempfile.TemporaryDirectory() as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "scripts.local", "--port", str(port), "--env", "dev"],
                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr,
            )
        try:
            first_line = process.stdout.readline().decode().strip()
            if not first_line:
                process.wait(timeout=STARTUP_TIMEOUT_S)
                pytest.fail(f"scripts.local exited {process.returncode}: {stderr_path.read_text()[-3000:]}")
            yield LocalApi(process, first_line, port, stderr_path)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()


@pytest.fixture
def client(local_api: LocalApi) -> Iterator[Client]:
    """A keep-alive connection to the running API."""
    connection = Client(local_api.base_url)
    yield connection
    connection.close()


def update(tracking_id: str, status: str = "in_transit") -> dict:
    """A valid POST /track body."""
    return {"tracking_id": tracking_id, "status": status, "location": {"lat": 52.52, "lng": 13.405}}


def test_first_line_is_the_stage_base_url(local_api: LocalApi) -> None:
    # GIVEN the process started on a chosen port  # WHEN it is ready  # THEN line 1 is http://HOST:PORT/<env>
    assert local_api.base_url == f"http://127.0.0.1:{local_api.port}/dev"


def test_unsigned_request_is_refused_as_api_gateway_does(client: Client) -> None:
    # GIVEN a valid body  # WHEN it is POSTed without a signature
    answer = client.call("POST", "/track", update("E2E-UNSIGNED"), credentials=None)
    # THEN API Gateway's answer for AWS_IAM methods
    assert (answer.status, answer.json) == (403, {"message": "Missing Authentication Token"})
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_wrong_secret_is_refused(client: Client) -> None:
    # GIVEN the right access key id with the wrong secret
    wrong = Credentials("testing", "not-the-secret")
    # WHEN a signed GET is sent
    answer = client.call("GET", "/status?tracking_id=E2E-1", credentials=wrong)
    # THEN the signature does not match
    assert answer.status == 403
    assert answer.json["message"].startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_refused(client: Client) -> None:
    # GIVEN credentials nobody configured  # WHEN they sign a request
    answer = client.call("GET", "/status?tracking_id=E2E-1", credentials=Credentials("AKIDUNKNOWN", "testing"))
    # THEN API Gateway's answer for an unknown key
    assert (answer.status, answer.json) == (403, {"message": "The security token included in the request is invalid."})


def test_signed_post_is_stored_and_get_shows_it(client: Client) -> None:
    # GIVEN a signed, valid update
    posted = client.call("POST", "/track", update("E2E-ROUNDTRIP", "delivered"))
    # WHEN the same shipment's status is read back
    got = client.call("GET", "/status?tracking_id=E2E-ROUNDTRIP")
    # THEN the handler stored it in the emulated table and returns it
    assert posted.status == 200, posted.json
    assert posted.json["tracking_id"] == "E2E-ROUNDTRIP"
    assert isinstance(posted.json["timestamp"], int)
    assert posted.headers["x-amzn-requestid"]
    assert got.status == 200, got.json
    assert got.json["count"] == 1
    assert got.json["updates"][0]["status"] == "delivered"
    assert got.json["updates"][0]["timestamp"] == posted.json["timestamp"]


@pytest.mark.parametrize(
    "body",
    [
        {"tracking_id": "E2E-BAD", "status": "lost", "location": {"lat": 1, "lng": 2}},
        {"tracking_id": "E2E-BAD", "status": "pending", "location": {"lat": 91, "lng": 2}},
        {"tracking_id": "E2E-BAD", "status": "pending"},
    ],
    ids=["status-not-in-enum", "lat-out-of-range", "no-location"],
)
def test_body_failing_the_model_is_rejected_before_the_handler(client: Client, body: dict) -> None:
    # GIVEN a signed body that breaks the template's request model  # WHEN it is POSTed
    answer = client.call("POST", "/track", body)
    # THEN API Gateway's validator answers (its message, not the handler's {"error": ...})
    assert (answer.status, answer.json) == (400, {"message": "Invalid request body"})
    # AND nothing reached the table
    assert client.call("GET", "/status?tracking_id=E2E-BAD").json["count"] == 0


def test_missing_required_query_parameter_is_rejected(client: Client) -> None:
    # GIVEN the template marks tracking_id required on GET /status  # WHEN it is left out
    answer = client.call("GET", "/status")
    # THEN the validator names it
    assert (answer.status, answer.json) == (400, {"message": "Missing required request parameters: [tracking_id]"})


@pytest.mark.parametrize("method, path", [("GET", "/nowhere"), ("DELETE", "/track"), ("GET", "/track")])
def test_unknown_route_is_missing_authentication_token(client: Client, method: str, path: str) -> None:
    # GIVEN a path or method the template does not declare  # WHEN a signed request asks for it
    answer = client.call(method, path)
    # THEN API Gateway's answer for an unknown route
    assert (answer.status, answer.json) == (403, {"message": "Missing Authentication Token"})


def test_malformed_http_is_refused_and_the_server_keeps_serving(local_api: LocalApi, client: Client) -> None:
    # GIVEN a request with a broken Content-Length on its own connection
    import socket

    with socket.create_connection(("127.0.0.1", local_api.port), timeout=10) as raw:
        raw.sendall(b"POST /dev/track HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n")
        status_line = raw.recv(1024).split(b"\r\n", 1)[0]
    # THEN it is a 400, and the next request is served as usual
    assert status_line.startswith(b"HTTP/1.1 400")
    assert client.call("GET", "/status?tracking_id=E2E-AFTER").status == 200


def test_request_log_line_per_request(local_api: LocalApi, client: Client) -> None:
    # GIVEN a request with a recognisable query  # WHEN it is served
    client.call("GET", "/status?tracking_id=E2E-LOGLINE")
    # THEN stderr has its line: method, path, status, latency
    deadline = time.monotonic() + 5
    while "E2E-LOGLINE" not in local_api.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(l for l in local_api.stderr().splitlines() if "tracking_id=E2E-LOGLINE" in l and l.startswith("GET"))
    method, path, status, latency = line.split()
    assert (method, path, status) == ("GET", "/dev/status?tracking_id=E2E-LOGLINE", "200")
    assert latency.endswith("ms") and float(latency[:-2]) >= 0


def test_delivered_update_is_notified_through_the_stream(local_api: LocalApi, client: Client) -> None:
    # GIVEN a queue subscribed to the stack's topic in the embedded emulator (its URL is logged)
    import re

    import boto3

    emulator = re.search(r"emulator at (http://[0-9.:]+)", local_api.stderr()).group(1)
    kw = {"region_name": "us-east-1", "endpoint_url": emulator,
          "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    cfn, sns, sqs = (boto3.client(s, **kw) for s in ("cloudformation", "sns", "sqs"))
    resources = cfn.describe_stack_resources(StackName="tracking-dev")["StackResources"]
    topic = next(r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::SNS::Topic")
    queue = sqs.create_queue(QueueName="e2e-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    # WHEN one delivered update (a latitude a float would round to 90.0) and one in-transit update are POSTed
    delivered = json.dumps(update("E2E-NOTIFY-1", "delivered")).replace("52.52", "89.99999999999999999999999999999")
    assert client.call("POST", "/track", raw=delivered.encode()).status == 200
    assert client.call("POST", "/track", update("E2E-NOTIFY-2", "in_transit")).status == 200
    # THEN the notifier, fed by the table's stream, publishes the delivered one and not the other
    # (earlier tests' delivered updates may still arrive: the stream is read every 0.25 s)
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + 10
    settle_until = None
    while time.monotonic() < (settle_until or deadline):
        for m in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", []):
            seen[json.loads(m["Body"])["tracking_id"]] = m
        if "E2E-NOTIFY-1" in seen and settle_until is None:
            settle_until = time.monotonic() + 1.0
    assert {k for k in seen if k.startswith("E2E-NOTIFY")} == {"E2E-NOTIFY-1"}
    assert seen["E2E-NOTIFY-1"]["MessageAttributes"]["status"]["StringValue"] == "delivered"
    # AND its message carries the latitude with every digit stored, as the API answers it
    assert '"lat":89.99999999999999999999999999999,' in seen["E2E-NOTIFY-1"]["Body"]


@pytest.mark.parametrize("heading", ["With the project's client", "The raw HTTP, signed by curl"])
def test_the_help_examples_work(local_api: LocalApi, heading: str) -> None:
    # GIVEN an example of --help (the client's commands, or curl; was a botocore snippet), pointed at this server
    import shutil

    from scripts.local.command import SIGNING_HELP

    if heading.endswith("curl") and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    example = SIGNING_HELP.split(f"\n{heading}", 1)[1].split(":\n", 1)[1].split("\n\n", 1)[0]
    code = "\n".join(line[2:] for line in example.splitlines())
    code = code.replace("http://127.0.0.1:3000/dev", local_api.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    # WHEN it runs as a user would run it, in a shell
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True, timeout=60,
                            env=env)
    # THEN it stores an update
    assert result.returncode == 0, result.stderr
    assert "Tracking update stored" in result.stdout


def test_sigint_stops_cleanly_and_frees_the_port(local_api: LocalApi) -> None:
    # GIVEN the running server (this test runs last in the module)
    assert local_api.process.poll() is None
    # WHEN it gets SIGINT
    started = time.monotonic()
    local_api.process.send_signal(signal.SIGINT)
    code = local_api.process.wait(timeout=10)
    # THEN it exits 0 within a few seconds, the port is free and stdout held only the URL
    assert code == 0, local_api.stderr()[-2000:]
    assert time.monotonic() - started < 5
    assert port_is_free(local_api.port)
    assert local_api.process.stdout.read() == b""
    assert "Traceback" not in local_api.stderr()
