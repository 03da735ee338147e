"""No-op redeploy against a moto server: wall time and AWS API calls by operation.

    python benchmarks/bench_deploy.py [--runs 9] [--no-deps]

Deploys the real template once (bootstrap, package, upload, create), then redeploys the same
sources RUNS times, timing each and counting every API call with botocore's `before-call`
event. Goal: 0 uploads, 0 stack updates, and only the calls the work needs.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
    os.environ[name] = value
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)

import boto3  # noqa: E402
import requests  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from scripts.aws import ApiCallCounter, Aws, AwsTarget  # noqa: E402
from scripts.console import Console  # noqa: E402
from scripts.deploy.deployer import Polling  # noqa: E402
from scripts.deploy.project import DeployOptions, deploy_stack  # noqa: E402

# Why a no-op redeploy makes each call (with the bootstrap stack already in place).
WHY = {
    ("cloudformation", "DescribeStacks"): "bootstrap stack ready? / app stack's state (CREATE or UPDATE, previous parameters)",
    ("cloudformation", "DescribeStackResource"): "the artifact bucket's name (physical id of the bootstrap bucket)",
    ("s3", "HeadObject"): "is each content-addressed zip (or big template) already uploaded?",
    ("cloudformation", "ListStackResources"): "which rollback-trigger alarms the stack has (the change set carries them)",
    ("cloudformation", "GetStackPolicy"): "is the tables' stack policy still the template's? (set again when not)",
    ("cloudformation", "CreateChangeSet"): "let CloudFormation decide whether anything changed",
    ("cloudformation", "DescribeChangeSet"): "wait for the change set (AWS reports 'no changes' as a FAILED change set)",
    ("cloudformation", "DeleteChangeSet"): "remove the empty change set",
}
UPDATES = ("ExecuteChangeSet", "UpdateStack", "CreateStack")


class CallTimer:
    """Wall time spent inside API calls (before-call to after-call), for one session."""

    def __init__(self, session: boto3.Session) -> None:
        self.seconds = 0.0
        self._started = 0.0
        session.events.register("before-call.*.*", self._before)
        session.events.register("after-call.*.*", self._after)
        session.events.register("after-call-error.*.*", self._after)

    def _before(self, **_: object) -> None:
        self._started = time.perf_counter()

    def _after(self, **_: object) -> None:
        self.seconds += time.perf_counter() - self._started


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-deps", action="store_true", help="zip sources without dependencies")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    requests.post(f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    quiet = Console(_Null(), _Null())
    try:
        with tempfile.TemporaryDirectory() as scratch:
            options = DeployOptions(
                stack_name="tracking-bench",
                bundle_deps=not args.no_deps,
                # The dependency cache lives under build/ so repeated benchmark runs reuse it.
                output_dir=REPO / "build" / "bench" if not args.no_deps else Path(scratch),
                polling=Polling(delay=0.2, backoff=1.5, max_delay=2.0, timeout=300),
            )
            started = time.perf_counter()
            first = deploy_stack(options, Aws(AwsTarget("us-east-1", endpoint)), quiet)
            first_s = time.perf_counter() - started
            assert first.outcome == "deployed", first
            times: list[float] = []
            in_calls: list[float] = []
            counts = None
            for _ in range(args.runs):
                session = boto3.Session(region_name="us-east-1")
                counter = ApiCallCounter(session)
                timer = CallTimer(session)
                started = time.perf_counter()
                result = deploy_stack(options, Aws(AwsTarget("us-east-1", endpoint), session), quiet)
                times.append(time.perf_counter() - started)
                in_calls.append(timer.seconds)
                assert result.outcome == "no-changes", result
                if counts is not None and counter.calls != counts:
                    raise SystemExit(f"call counts differ between runs: {counter.calls} vs {counts}")
                counts = counter.calls
    finally:
        server.stop()

    assert counts is not None
    uploads = sum(n for (_, op), n in counts.items() if op == "PutObject")
    updates = sum(n for (_, op), n in counts.items() if op in UPDATES)
    print(f"first deploy (bootstrap + package + create): {first_s:.2f} s")
    print(f"no-op redeploy: median {statistics.median(times):.3f} s, min {min(times):.3f} s "
          f"over {len(times)} runs; of which in API calls: median {statistics.median(in_calls):.3f} s "
          "(the rest: synthesis, zipping, hashing)")  # fmt: skip
    print(f"uploads: {uploads}   stack updates: {updates}   API calls: {sum(counts.values())}")
    for (service, operation), n in sorted(counts.items()):
        print(f"  {n} x {service}:{operation:<24} {WHY.get((service, operation), '(unexpected)')}")
    return 0 if uploads == 0 and updates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
