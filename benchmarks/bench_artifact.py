"""Cold start of the shipped zips, as Lambda runs them; A and B alternated, medians.

A: the zip `scripts.package` builds (dependencies bundled, with and without bytecode),
   unpacked read-only, run by a fresh CPython 3.13 whose only packages are the AWS SDK the
   Lambda runtime provides (boto3/botocore 1.34.x, tests/functions/runtime-sdk.txt), in a
   Lambda-like environment (LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, tracing on with
   _X_AMZN_TRACE_ID): import the handler and serve one event against a moto server.
     tracking: one POST /track.   notifier: one DynamoDB stream batch (one delivered update).
B: the same interpreter and SDK: import boto3 and make the call the handler makes with a
   low-level client (tracking: the same put_item; notifier: the same SNS publish).

Alternating A, B; medians of >= 9 pairs; prints the figures and ratios (goal for the tracking
zip with bytecode: <= 1.3). Run from the repo root, with python3.13 on PATH (or --python):

    python benchmarks/bench_artifact.py [--pairs 11] [--python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from bench_handler import COLD_BOTO3, EVENT_FILE, FAKE_CREDENTIALS, LAMBDA_ENV, REPO_ROOT, UNTIL_RESPONSE, moto_server, run_process

sys.path.insert(0, str(REPO_ROOT))

from scripts.package.interpreter import find_interpreter  # noqa: E402
from scripts.package.packager import Packager  # noqa: E402
from tests.functions.runtime_sdk import runtime_sdk_python  # noqa: E402

STREAM_EVENT = REPO_ROOT / "tests" / "functions" / "notifier" / "events" / "insert_delivered.json"
CONTEXT = """
context = types.SimpleNamespace(function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"], memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench", aws_request_id="bench",
    get_remaining_time_in_millis=lambda: 30_000)
"""
# A: the task root first on the path, as the runtime puts it; then import and one event.
COLD_TRACKING = f"""
import json, os, sys, types
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
import handler
{CONTEXT}
response = handler.main(json.load(open({str(EVENT_FILE)!r})), context)
assert response["statusCode"] == 200, response
"""
COLD_NOTIFIER = f"""
import json, os, sys, types
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
import handler
{CONTEXT}
response = handler.main(json.load(open({str(STREAM_EVENT)!r})), context)
assert response == {{"batchItemFailures": []}}, response
"""
# B for the notifier: the publish it makes for that record, from a bare low-level client.
COLD_PUBLISH = """
import json, os
import boto3
boto3.client("sns").publish(
    TopicArn=os.environ["TOPIC_ARN"],
    Message=json.dumps({"tracking_id": "PKG-1001", "status": "delivered", "timestamp": 1764321345123,
                        "location": {"lat": 40.7128, "lng": -74.006}}),
    Subject="Shipment PKG-1001 delivered",
    MessageAttributes={"status": {"DataType": "String", "StringValue": "delivered"}},
)
"""


def build_zips(python: str | None, out: Path) -> dict[tuple[str, bool], Path]:
    """(function, with bytecode) -> zip, built by scripts.package's Packager with dependencies."""
    interpreter = find_interpreter(python)
    zips = {}
    for bytecode in (True, False):
        packager = Packager(output_dir=out / ("bytecode" if bytecode else "source"), deps_cache=out / "deps",
                            interpreter=interpreter if bytecode else None)  # fmt: skip
        for built in packager.build_all():
            zips[(built.function, bytecode)] = built.archive.path
    return zips


def unpack_read_only(archive: Path, target: Path) -> Path:
    """Unzip as Lambda does into a folder nobody can write (no __pycache__ can be added)."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    for path in sorted(target.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    target.chmod(0o555)
    return target


def make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def provision(endpoint: str) -> dict[str, dict[str, str]]:
    """The template's table and parameters, and a topic, on the moto server; each function's env."""
    import boto3

    from tests.functions.tracking.stack import provision as provision_tracking

    tracking_env = dict(provision_tracking(endpoint).function_env)
    topic = boto3.client("sns", endpoint_url=endpoint).create_topic(Name="bench-notifications")["TopicArn"]
    notifier_env = {
        "TOPIC_ARN": topic, "NOTIFY_STATUSES": "delivered,failed", "ENVIRONMENT": tracking_env["ENVIRONMENT"],
        "FEATURE_FLAGS_PARAM": tracking_env["FEATURE_FLAGS_PARAM"], "LOG_LEVEL": tracking_env["LOG_LEVEL"],
        "POWERTOOLS_SERVICE_NAME": "status-notifier", "POWERTOOLS_METRICS_NAMESPACE": "LogisticsTracking",
    }  # fmt: skip
    return {"tracking": tracking_env, "notifier": notifier_env}


def arms(roots: dict[tuple[str, bool], Path], endpoint: str) -> dict[str, tuple[str, str, dict[str, str], Path]]:
    """name -> (A code, B code, environment, task root) for every zip, whole process or until the response."""
    envs = provision(endpoint)
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    found = {}
    for (function, bytecode), root in sorted(roots.items()):
        env = {**base, **FAKE_CREDENTIALS, **envs[function], **LAMBDA_ENV, "AWS_ENDPOINT_URL": endpoint,
               "LAMBDA_TASK_ROOT": str(root), "AWS_LAMBDA_FUNCTION_NAME": f"{function}-bench"}  # fmt: skip
        a_code, b_code = (COLD_TRACKING, COLD_BOTO3) if function == "tracking" else (COLD_NOTIFIER, COLD_PUBLISH)
        for label, tail in (("process", ""), ("until response", UNTIL_RESPONSE)):
            found[f"{function}, {'with' if bytecode else 'without'} bytecode [{label}]"] = (a_code + tail, b_code + tail, env, root)
    return found


def measure(pairs: int, python: str | None) -> dict[str, dict[str, float]]:
    """Both functions, with and without bytecode, whole process or until the response: A vs B."""
    runtime = str(runtime_sdk_python(find_interpreter(python)))
    with tempfile.TemporaryDirectory() as tmp:
        zips = build_zips(python, REPO_ROOT / "build" / "bench-artifact")
        roots = {key: unpack_read_only(path, Path(tmp) / f"{key[0]}-{key[1]}") for key, path in zips.items()}
        try:
            with moto_server() as endpoint:
                runs = arms(roots, endpoint)
                for a_code, b_code, env, root in runs.values():  # warm the file cache
                    run_process(runtime, a_code, env, root), run_process(runtime, b_code, env, root)
                samples: dict[str, tuple[list, list]] = {name: ([], []) for name in runs}
                for _ in range(pairs):
                    for name, (a_code, b_code, env, root) in runs.items():
                        samples[name][0].append(run_process(runtime, a_code, env, root))
                        samples[name][1].append(run_process(runtime, b_code, env, root))
        finally:
            for root in roots.values():
                make_writable(root)
    figures = {}
    for name, (a_runs, b_runs) in samples.items():
        a_wall, a_cpu = zip(*a_runs)
        b_wall, b_cpu = zip(*b_runs)
        figures[name] = {
            "a": statistics.median(a_wall), "b": statistics.median(b_wall), "n": len(a_wall),
            "pair_ratio": statistics.median(a / b for a, b in zip(a_wall, b_wall)),
            "a_cpu": statistics.median(a_cpu), "b_cpu": statistics.median(b_cpu),
            "zip_bytes": zips[(name.split(",")[0], "with bytecode" in name)].stat().st_size,
        }  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure and print the shipped zips' cold-start figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--python", help="CPython 3.13 (default: python3.13 on PATH)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    pairs = max(args.pairs, 9)
    results = measure(pairs, args.python)
    for name, f in results.items():
        b_what = "put_item" if name.startswith("tracking") else "SNS publish"
        print(f"cold start of the shipped zip, {name} ({f['zip_bytes'] / 1e6:.1f} MB): "
              f"A {f['a'] * 1000:.0f} ms wall / {f['a_cpu'] * 1000:.0f} ms CPU, "
              f"B (import boto3 + the same {b_what}) {f['b'] * 1000:.0f} ms / {f['b_cpu'] * 1000:.0f} ms CPU: "
              f"ratio {f['a'] / f['b']:.2f} wall (median of pair ratios {f['pair_ratio']:.2f}), "
              f"{f['a_cpu'] / f['b_cpu']:.2f} CPU; {f['n']} pairs; goal <= 1.3")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
