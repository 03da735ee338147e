"""scripts.local: time to the first served request vs the deploy alone; signed POST /track throughput.

Figures (A and B alternated, medians):
- ready ratio: A = a fresh `python -m scripts.local` process until its first signed request is
  answered; B = a fresh `python -m scripts.deploy` process deploying the same stack into a moto
  server (the floor: local does exactly that deploy, plus starting the emulator and the gateway).
  Two floors: B-fresh, a moto server process started (and answering) just before the timer, so
  the deploy pays moto's lazy loading of its CloudFormation backend as local's deploy does;
  B-warm, one long-running moto server reset between runs (moto's backends already imported).
  Goal: A/B < 3.
- throughput: signed POST /track from 1, 16 and 64 concurrent keep-alive clients against one
  running local API: requests per second (all clients together) and p50/p99 latency.
- with --baseline DIR: the same throughput figures for this checkout (A) and for the checkout in
  DIR (B, e.g. `git archive main | tar -x -C DIR`), both servers running, measured alternately
  round after round (A first in odd rounds, B first in even ones); medians per client count and
  the ratio A/B of requests per second (goal: not below 1 at one client).

Run: .venv/bin/python benchmarks/bench_local.py [--pairs 9] [--requests 1000]
     .venv/bin/python benchmarks/bench_local.py --baseline DIR [--rounds 9] [--requests 320]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = Credentials("testing", "testing")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return env


def _signed(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(CREDENTIALS, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers)


def _request(connection: http.client.HTTPConnection, base_url: str, method: str, path: str, body: bytes = b"") -> int:
    url = base_url + path
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request(method, target, body=body or None, headers=_signed(method, url, body))
    response = connection.getresponse()
    response.read()
    return response.status


def _start_local(*flags: str, repo: Path = REPO_ROOT) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "scripts.local", "--port", "0", *flags], cwd=repo, env=_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    base_url = process.stdout.readline().decode().strip()
    if not base_url:
        raise SystemExit(f"scripts.local failed to start (exit {process.wait()})")
    return process, base_url


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    process.stdout.close()


def time_local_ready() -> float:
    """A: seconds from spawning scripts.local to the answer of its first signed request."""
    started = time.perf_counter()
    process, base_url = _start_local()
    connection = http.client.HTTPConnection(urlsplit(base_url).hostname, urlsplit(base_url).port, timeout=30)
    status = _request(connection, base_url, "GET", "/status?tracking_id=BENCH")
    elapsed = time.perf_counter() - started
    connection.close()
    _stop(process)
    if status != 200:
        raise SystemExit(f"first request answered {status}")
    return elapsed


MOTO_PROCESS = """
import logging, sys, threading
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


def _prepare(moto_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10).close()
    urllib.request.urlopen(urllib.request.Request(
        f"{moto_url}/moto-api/config", data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"}, method="POST"), timeout=10).close()


def time_deploy_into_fresh_emulator(run: int) -> float:
    """B-fresh: the deploy alone, into a moto server process started (and answering) before the timer."""
    moto = subprocess.Popen([sys.executable, "-c", MOTO_PROCESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=_env())
    try:
        moto_url = moto.stdout.readline().decode().strip()
        _prepare(moto_url)
        return time_deploy_alone(moto_url, run, prepared=True)
    finally:
        moto.stdin.close()
        moto.wait(timeout=30)
        moto.stdout.close()


def time_deploy_alone(moto_url: str, run: int, prepared: bool = False) -> float:
    """B-warm: seconds for a fresh `python -m scripts.deploy` process into a running, reset moto server."""
    if not prepared:
        _prepare(moto_url)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "scripts.deploy", "--stack-name", f"tracking-dev-{run}", "--env", "dev",
         "--region", "us-east-1", "--endpoint-url", moto_url],
        cwd=REPO_ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"deploy failed: {result.stderr[-2000:]}")
    return elapsed


def concurrent_throughput(base_url: str, clients: int, requests: int) -> dict[str, float]:
    """REQUESTS signed POST /track shared by CLIENTS keep-alive connections: req/s and latency percentiles (ms)."""
    per_client = max(1, requests // clients)
    parts = urlsplit(base_url)
    # Opened and used once in turn, before the clock starts: this figure is keep-alive throughput,
    # not how a burst of new connections is accepted (the tests cover that).
    connections = [http.client.HTTPConnection(parts.hostname, parts.port, timeout=60) for _ in range(clients)]
    for n, connection in enumerate(connections):
        _request(connection, base_url, "POST", "/track", _body(f"WARM-{n}"))
    start = threading.Barrier(clients + 1)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(n: int, connection: http.client.HTTPConnection) -> None:
        mine = []
        start.wait()
        try:
            for i in range(per_client):
                t0 = time.perf_counter()
                status = _request(connection, base_url, "POST", "/track", _body(f"BENCH-{n}-{i % 5}"))
                mine.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    failures.append(f"POST /track answered {status}")
        except Exception as error:  # reported below: a benchmark must not hide failures
            failures.append(repr(error))
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n, c)) for n, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} request(s) failed, first: {failures[0]}")
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def throughput(requests: int, *flags: str, client_counts: tuple[int, ...] = (1, 16, 64)) -> dict[int, dict[str, float]]:
    """concurrent_throughput at each client count against one fresh local API."""
    process, base_url = _start_local(*flags)
    try:
        concurrent_throughput(base_url, 1, 20)  # warm-up: imports, connections to the emulator, caches
        return {clients: concurrent_throughput(base_url, clients, requests) for clients in client_counts}
    finally:
        _stop(process)


def compare(baseline: Path, rounds: int, requests: int, client_counts: tuple[int, ...] = (1, 16, 64)) -> None:
    """Throughput of this checkout (A) and of BASELINE (B), measured alternately; print medians and ratios."""
    a_process, a_url = _start_local()
    b_process, b_url = _start_local(repo=baseline)
    figures: dict[tuple[str, int], list[dict[str, float]]] = {}
    try:
        for url in (a_url, b_url):
            concurrent_throughput(url, 1, 20)
        for round_number in range(rounds):
            order = (("A", a_url), ("B", b_url)) if round_number % 2 == 0 else (("B", b_url), ("A", a_url))
            for clients in client_counts:
                for label, url in order:
                    figures.setdefault((label, clients), []).append(concurrent_throughput(url, clients, requests))
            print(f"round {round_number + 1}: " + ", ".join(
                f"{c} client(s) A {figures['A', c][-1]['rps']:.0f} / B {figures['B', c][-1]['rps']:.0f} req/s"
                for c in client_counts), flush=True)
    finally:
        _stop(a_process)
        _stop(b_process)
    med = statistics.median
    print(f"\nsigned POST /track, keep-alive clients, {requests} requests per measurement, medians of {rounds} rounds")
    print(f"A = {REPO_ROOT}, B = {baseline}")
    print("| clients | A req/s | B req/s | A/B | A p50 ms | B p50 ms | A p99 ms | B p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for clients in client_counts:
        a, b = figures["A", clients], figures["B", clients]
        ratio = med([x["rps"] / y["rps"] for x, y in zip(a, b)])
        print(f"| {clients} | {med(x['rps'] for x in a):.0f} | {med(y['rps'] for y in b):.0f} | {ratio:.2f} | "
              f"{med(x['p50_ms'] for x in a):.1f} | {med(y['p50_ms'] for y in b):.1f} | "
              f"{med(x['p99_ms'] for x in a):.1f} | {med(y['p99_ms'] for y in b):.1f} |")


def _body(tracking_id: str) -> bytes:
    return json.dumps({"tracking_id": tracking_id, "status": "in_transit", "location": {"lat": 48.85, "lng": 2.35}}).encode()


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=9, help="A/B pairs for the ready ratio (default 9)")
    parser.add_argument("--requests", type=int, default=None,
                        help="POSTs per throughput measurement (default 1000; 320 with --baseline)")
    parser.add_argument("--baseline", type=Path, help="compare throughput with the checkout in this folder")
    parser.add_argument("--rounds", type=int, default=9, help="alternated A/B rounds with --baseline (default 9)")
    args = parser.parse_args(argv)
    if args.baseline:
        compare(args.baseline.resolve(), args.rounds, args.requests or 320)
        return 0

    from moto.server import ThreadedMotoServer

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    ready, fresh, warm, fresh_ratios, warm_ratios = [], [], [], [], []
    try:
        time_deploy_alone(moto_url, -1)  # warm the package cache (dependency wheels) for both sides
        for run in range(args.pairs):
            a = time_local_ready()
            b_fresh = time_deploy_into_fresh_emulator(run)
            b_warm = time_deploy_alone(moto_url, run)
            ready.append(a)
            fresh.append(b_fresh)
            warm.append(b_warm)
            fresh_ratios.append(a / b_fresh)
            warm_ratios.append(a / b_warm)
            print(f"run {run + 1}: local ready {a:.2f}s, deploy into fresh moto {b_fresh:.2f}s, "
                  f"into warm moto {b_warm:.2f}s", flush=True)
    finally:
        moto.stop()
    med = statistics.median
    print(f"ready: median {med(ready):.2f}s; deploy alone: fresh moto {med(fresh):.2f}s, warm moto {med(warm):.2f}s")
    print(f"ratio ready/deploy (median of runs, goal < 3): vs fresh moto {med(fresh_ratios):.2f}, "
          f"vs warm moto {med(warm_ratios):.2f}")
    # With streams (the default) the notifier's batches share the one invocation lock with the API.
    for label, flags in (("default", ()), ("--no-streams", ("--no-streams",))):
        for clients, figures in throughput(args.requests or 1000, *flags).items():
            print(f"signed POST /track, {clients} keep-alive client(s), {figures['requests']} requests ({label}): "
                  f"{figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
