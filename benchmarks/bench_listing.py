"""Listing page figure (A and B alternated, medians): GET /shipments vs one single-partition Query.

A: `GET /shipments?status=in_transit&limit=50` through handler.main, over the environment's N
   shards (dev's 2, prod's 16): N Query calls in parallel, merged newest first, token encoded.
B: the floor: one bare low-level `Query` of 50 items on a single partition (one shard key of
   the same index, newest first).
Both against in-process moto, in a worker process (stdout to /dev/null, as Lambda's log pipe),
alternating A, B; medians of >= 9 pairs. Also counts the Query calls per page (first page and
over a walk of the whole listing). moto answers from memory, so A's parallel queries cost their
CPU here, not the network round trips they overlap in AWS, and moto answers an index Query by
reading the whole table, so each query's cost grows with the table (not so in DynamoDB). Run
from the repo root:

    python benchmarks/bench_listing.py [--pairs 11] [--pages 5] [--shipments 1000] [--shards N ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_handler import FAKE_CREDENTIALS, FUNCTION_DIR, REPO_ROOT, paired

NOTIFIER_DIR = REPO_ROOT / "functions" / "notifier"
PAGE = 50
STATUS = "in_transit"


def _image(tracking_id: str, timestamp: int) -> dict[str, Any]:
    return {
        "tracking_id": {"S": tracking_id},
        "timestamp": {"N": str(timestamp)},
        "status": {"S": STATUS},
        "location": {"M": {"lat": {"N": "40.7128"}, "lng": {"N": "-74.006"}}},
        "metadata": {"M": {"carrier": {"S": "ACME"}, "weight_kg": {"N": "12.5"}}},
    }


def worker(out_file: str, shards: int, pairs: int, pages_per_sample: int, shipments: int) -> None:
    """Runs in its own process: in-process moto, the state table filled by the real projection."""
    import boto3
    from moto import mock_aws

    os.environ.update(FAKE_CREDENTIALS)
    with mock_aws():
        sys.path[:0] = [str(FUNCTION_DIR), str(NOTIFIER_DIR), str(REPO_ROOT)]
        from tests.functions.tracking.stack import provision

        os.environ.update(provision(None).function_env)
        os.environ["LISTING_SHARDS"] = str(shards)
        from status_notifier.projection import Projection
        from tests.functions.tracking.conftest import FakeLambdaContext, get_event, load_handler

        client = boto3.client("dynamodb")
        table, index = os.environ["STATE_TABLE_NAME"], os.environ["STATE_INDEX_NAME"]
        writer = Projection(table, shards)
        for n in range(shipments):
            writer.apply(_image(f"1Z{n:010d}", 1_700_000_000_000 + n), client)

        handler = load_handler("bench_listing_handler")
        context = FakeLambdaContext()
        event = get_event({"status": STATUS, "limit": str(PAGE)})
        for key in ("resource", "path"):
            event[key] = "/shipments"
        event["requestContext"]["resourcePath"] = "/shipments"
        event["requestContext"]["path"] = "/test/shipments?" + urlencode({"status": STATUS, "limit": PAGE})

        def listing_page() -> None:
            response = handler.main(event, context)
            assert response["statusCode"] == 200 and len(json.loads(response["body"])["shipments"]) == PAGE

        # B reads the fullest shard key: one partition holding at least a page.
        from collections import Counter

        from status_notifier.sharding import shard_key, shard_of

        fullest, size = Counter(shard_of(f"1Z{n:010d}", shards) for n in range(shipments)).most_common(1)[0]
        assert size >= PAGE, f"{shipments} shipments over {shards} shards leave fewer than {PAGE} on one key"

        def single_query() -> None:
            answer = client.query(
                TableName=table, IndexName=index,
                KeyConditionExpression="listing_shard = :k",
                ExpressionAttributeValues={":k": {"S": shard_key(STATUS, fullest)}},
                ScanIndexForward=False, Limit=PAGE,
            )
            assert len(answer["Items"]) == PAGE

        # Query calls per page, counted on the function's session (every client of it is made from it).
        from tracking_api import aws

        calls: list[str] = []
        aws.reset()
        aws.session().events.register("before-call.dynamodb.Query", lambda **_: calls.append("Query"))
        listing_page()
        first_page_calls = len(calls)
        calls.clear()
        pages, walk_event = 0, json.loads(json.dumps(event))
        while True:
            body = json.loads(handler.main(walk_event, context)["body"])
            pages += 1
            if "next_key" not in body:
                break
            walk_event["queryStringParameters"] = {"status": STATUS, "limit": str(PAGE), "last_key": body["next_key"]}
            walk_event["multiValueQueryStringParameters"] = {k: [v] for k, v in walk_event["queryStringParameters"].items()}
        walk_calls = len(calls)

        figures = paired(listing_page, single_query, pairs, pages_per_sample)
    Path(out_file).write_text(json.dumps({
        **figures,
        "first_page_calls": first_page_calls, "walk_pages": pages, "walk_calls": walk_calls,
    }))


def measure(shards: int, pairs: int, pages: int, shipments: int) -> dict[str, Any]:
    """Run the worker for `shards` in a fresh process and read its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "listing.json")
        env = {**os.environ, **FAKE_CREDENTIALS}
        env.pop("AWS_ENDPOINT_URL", None)
        argv = [sys.executable, __file__, "--worker", out, "--shards", str(shards), "--pairs", str(pairs),
                "--pages", str(pages), "--shipments", str(shipments)]
        subprocess.run(argv, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, check=True)
        return json.loads(Path(out).read_text())


def main(argv: list[str] | None = None) -> int:
    """Measure and print the listing page figures for dev's and prod's shard counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--pages", type=int, default=5, help="pages (or queries) per sample")
    parser.add_argument("--shipments", type=int, default=1000, help="in-transit shipments in the listing")
    parser.add_argument("--shards", type=int, action="append", help="shard counts (default: dev's and prod's)")
    parser.add_argument("--worker", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pairs = max(args.pairs, 9)
    if args.worker:
        worker(args.worker, args.shards[0], pairs, args.pages, args.shipments)
        return 0
    sys.path.insert(0, str(REPO_ROOT))
    from tracking_templates.settings import settings_for

    for shards in args.shards or [settings_for(env).listing_shards for env in ("dev", "prod")]:
        f = measure(shards, pairs, args.pages, args.shipments)
        print(f"listing page, N={shards}: GET /shipments limit={PAGE} {f['a'] * 1e3:.2f} ms, single-partition "
              f"Query of {PAGE} {f['b'] * 1e3:.2f} ms, ratio {f['a'] / f['b']:.2f} (median of pair ratios "
              f"{f['pair_ratio']:.2f}; {f['n']} pairs of {args.pages})")
        print(f"listing page, N={shards}: Query calls: first page {f['first_page_calls']}; whole listing of "
              f"{args.shipments} in {f['walk_pages']} pages: {f['walk_calls']} calls, "
              f"{f['walk_calls'] / f['walk_pages']:.1f} per page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
