"""Handler figures: cold start, warm request, and AWS calls per request; A and B alternated, medians.

cold start   A: a fresh process in a Lambda-like environment (AWS_LAMBDA_FUNCTION_NAME,
                LAMBDA_TASK_ROOT, tracing on with _X_AMZN_TRACE_ID) that imports the handler
                and serves one POST /track against a moto server on 127.0.0.1.
             B: a fresh process that imports boto3 and makes the same conditional put_item
                with a low-level client.
warm request A: one POST /track through handler.main; B: the bare put_item it performs; both
                against in-process moto, measured in a worker process (stdout to /dev/null, as
                Lambda's log pipe), once with tracing off and once Lambda-like (tracing on).
AWS calls    counted with botocore events over warm requests.

Alternating A, B; medians of >= 9 pairs; prints the figures and ratios. Run from the repo root:

    python benchmarks/bench_handler.py [--pairs 11] [--warm-requests 200]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "functions" / "tracking"
EVENT_FILE = REPO_ROOT / "tests" / "functions" / "tracking" / "events" / "post_track.json"
TRACE_ID = "Root=1-6748c7d4-3f1b2c3d4e5f6a7b8c9d0e1f;Parent=53995c3f42cd8ad8;Sampled=1"

# What the Lambda runtime sets (the parts the SDKs look at), so imports behave as in Lambda.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "tracking-processor-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LAMBDA_TASK_ROOT": str(FUNCTION_DIR),
    "_X_AMZN_TRACE_ID": TRACE_ID,
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

# A: import the handler and serve the stored POST /track event once.
COLD_HANDLER = f"""
import json, sys, types
sys.path.insert(0, {str(FUNCTION_DIR)!r})
import handler
event = json.load(open({str(EVENT_FILE)!r}))
context = types.SimpleNamespace(function_name="tracking-processor-bench", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:tracking-processor-bench",
    aws_request_id="bench")
response = handler.main(event, context)
assert response["statusCode"] == 200, response
"""

# B: the same PutItem (same item, same condition) from a bare low-level boto3 client.
COLD_BOTO3 = """
import os, time
import boto3
client = boto3.client("dynamodb")
now = time.time_ns() // 1_000_000
client.put_item(
    TableName=os.environ["TABLE_NAME"],
    Item={
        "tracking_id": {"S": "TRK-0001"},
        "timestamp": {"N": str(now)},
        "status": {"S": "in_transit"},
        "location": {"M": {"lat": {"N": "40.7128"}, "lng": {"N": "-74.006"}}},
        "metadata": {"M": {"carrier": {"S": "ACME"}, "weight_kg": {"N": "12.5"}, "pieces": {"N": "3"}}},
        "created_at": {"S": "2026-11-28T19:45:00.000Z"},
        "environment": {"S": os.environ["ENVIRONMENT"]},
    },
    ConditionExpression="attribute_not_exists(tracking_id)",
)
"""


def _provision(endpoint: str | None) -> dict[str, str]:
    """The template's table and parameters in moto (server at endpoint, or in-process); the function env."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.functions.tracking.stack import provision

    return dict(provision(endpoint).function_env)


def run_process(python: str, code: str, env: dict[str, str], cwd: Path = REPO_ROOT) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh `PYTHON -c code` process in CWD."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, "-c", code], env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _run(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh `python -c code` process (this interpreter)."""
    return run_process(sys.executable, code, env)


# Lambda keeps the process after the first response: this ends both arms right there, so the
# interpreter's teardown (larger for the process that imported more) is left out.
UNTIL_RESPONSE = "\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n"


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (a free port), fake credentials in this process; yields its URL."""
    import requests
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        os.environ.update(FAKE_CREDENTIALS)
        yield endpoint
    finally:
        server.stop()


def cold_start(pairs: int) -> dict[str, dict[str, float]]:
    """Fresh processes, alternating: handler + one POST /track (A) vs boto3 + one put_item (B)."""
    with moto_server() as endpoint:
        env = {**os.environ, **FAKE_CREDENTIALS, **_provision(endpoint), **LAMBDA_ENV, "AWS_ENDPOINT_URL": endpoint}
        env.pop("PYTHONPATH", None)
        # Informational arm: the same without the feature-flags read (no SSM client, no SSM call).
        no_flags = {**env, "FEATURE_FLAGS_PARAM": ""}
        arms = {
            "process": (COLD_HANDLER, COLD_BOTO3, env),
            "until response": (COLD_HANDLER + UNTIL_RESPONSE, COLD_BOTO3 + UNTIL_RESPONSE, env),
            "process, flags not read": (COLD_HANDLER, COLD_BOTO3, no_flags),
        }
        for a_code, b_code, arm_env in arms.values():
            _run(a_code, arm_env), _run(b_code, arm_env)  # warm the file cache
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {k: {"a": [], "b": []} for k in arms}
        for _ in range(pairs):
            for name, (a_code, b_code, arm_env) in arms.items():
                samples[name]["a"].append(_run(a_code, arm_env))
                samples[name]["b"].append(_run(b_code, arm_env))
    figures = {}
    for name, arm in samples.items():
        a_wall, a_cpu = zip(*arm["a"])
        b_wall, b_cpu = zip(*arm["b"])
        figures[name] = {
            "a": statistics.median(a_wall), "b": statistics.median(b_wall), "n": len(a_wall),
            "pair_ratio": statistics.median(a / b for a, b in zip(a_wall, b_wall)),
            "a_cpu": statistics.median(a_cpu), "b_cpu": statistics.median(b_cpu),
        }
    return figures


def paired(a: Callable[[], Any], b: Callable[[], Any], pairs: int, per_sample: int) -> dict[str, Any]:
    """Time a and b alternately (a warm-up of each first): medians of each and of the pair ratios."""

    def sample(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        for _ in range(per_sample):
            fn()
        return (time.perf_counter() - start) / per_sample

    sample(a), sample(b)
    a_times, b_times = [], []
    for _ in range(pairs):
        a_times.append(sample(a))
        b_times.append(sample(b))
    return {"a": statistics.median(a_times), "b": statistics.median(b_times), "n": len(a_times),
            "pair_ratio": statistics.median(x / y for x, y in zip(a_times, b_times))}


def warm_worker(out_file: str, pairs: int, requests_per_sample: int) -> None:
    """Runs in its own process: in-process moto, handler.main vs bare put_item, and call counts."""
    import boto3
    from moto import mock_aws

    os.environ.update(FAKE_CREDENTIALS)
    with mock_aws():
        os.environ.update(_provision(None))
        sys.path.insert(0, str(FUNCTION_DIR))
        sys.path.insert(0, str(REPO_ROOT))
        from tests.functions.tracking.conftest import FakeLambdaContext, load_handler

        handler = load_handler("bench_tracking_handler")
        event = json.loads(EVENT_FILE.read_text())
        context = FakeLambdaContext()
        client = boto3.client("dynamodb")
        table = os.environ["TABLE_NAME"]
        from tracking_api.storage import TrackingStore
        from tracking_api.validation import parse_tracking_update

        update = parse_tracking_update(event["body"])
        store = TrackingStore(client, table, os.environ["ENVIRONMENT"])
        from boto3.dynamodb.types import TypeSerializer

        serialize = TypeSerializer().serialize
        stamp = [10**12]

        def handler_request() -> None:
            assert handler.main(event, context)["statusCode"] == 200

        def bare_put() -> None:
            stamp[0] += 1
            item = {k: serialize(v) for k, v in store.item_for(update, stamp[0]).items()}
            client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(tracking_id)")

        # Calls per request, counted on the function's session, which every client of it is made from.
        calls: list[str] = []
        from tracking_api import aws

        aws.reset()
        aws.session().events.register(
            "before-call", lambda model, **_: calls.append(f"{model.service_model.service_name}:{model.name}")
        )
        handler_request()
        first = list(calls)
        calls.clear()
        for _ in range(requests_per_sample):
            handler_request()
        warm_calls = list(calls)

        figures = paired(handler_request, bare_put, pairs, requests_per_sample)
    result = {**figures, "first_calls": first, "warm_calls": warm_calls, "warm_requests": requests_per_sample}
    Path(out_file).write_text(json.dumps(result))


def warm(pairs: int, requests_per_sample: int, lambda_like: bool) -> dict[str, Any]:
    """Run the warm worker in a fresh process (tracing is fixed at import) and read its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "warm.json")
        env = {**os.environ, **FAKE_CREDENTIALS, **(LAMBDA_ENV if lambda_like else {})}
        env.pop("AWS_ENDPOINT_URL", None)
        argv = [sys.executable, __file__, "--warm-worker", out, "--pairs", str(pairs),
                "--warm-requests", str(requests_per_sample)]
        subprocess.run(argv, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, check=True)
        return json.loads(Path(out).read_text())


def _count(calls: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        counts[call] = counts.get(call, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Measure and print the handler figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--warm-requests", type=int, default=200, help="requests per warm sample")
    parser.add_argument("--warm-worker", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pairs = max(args.pairs, 9)
    if args.warm_worker:
        warm_worker(args.warm_worker, pairs, args.warm_requests)
        return 0

    for name, cold in cold_start(pairs).items():
        print(f"cold start [{name}] A (import handler + one POST /track; Lambda-like, tracing on): "
              f"median {cold['a'] * 1000:.0f} ms wall, {cold['a_cpu'] * 1000:.0f} ms CPU")
        print(f"cold start [{name}] B (import boto3 + the same put_item): "
              f"median {cold['b'] * 1000:.0f} ms wall, {cold['b_cpu'] * 1000:.0f} ms CPU")
        print(f"cold start [{name}] ratio A/B: {cold['a'] / cold['b']:.2f} wall (median of pair ratios "
              f"{cold['pair_ratio']:.2f}), {cold['a_cpu'] / cold['b_cpu']:.2f} CPU; {cold['n']} pairs; goal <= 1.5")
    for lambda_like in (False, True):
        w = warm(pairs, args.warm_requests, lambda_like)
        label = "tracing on, Lambda-like" if lambda_like else "tracing off"
        print(f"warm request ({label}): handler.main {w['a'] * 1e6:.0f} us, bare put_item {w['b'] * 1e6:.0f} us, "
              f"ratio {w['a'] / w['b']:.2f} (median of pair ratios {w['pair_ratio']:.2f}; {w['n']} pairs of "
              f"{w['warm_requests']} requests; goal <= 1.5)")
        if not lambda_like:
            print(f"AWS calls, first request: {_count(w['first_calls'])}")
            per = {k: v / w["warm_requests"] for k, v in _count(w["warm_calls"]).items()}
            print(f"AWS calls per warm request (over {w['warm_requests']}): {per} "
                  "(SSM flags cached 300 s: at most one GetParameter per 5 minutes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
