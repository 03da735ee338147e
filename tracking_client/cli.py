"""`python -m tracking_client` / `tracking-client`: track, status and shipments from the command line, as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

import botocore.session
from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError, PartialCredentialsError, ProfileNotFound
from botocore.exceptions import ClientError as BotocoreClientError

from .client import TrackingClient
from .errors import ClientError, ConfigurationError

URL_VARIABLE = "TRACKING_API_URL"
EXAMPLES = f"""\
examples (against `python -m scripts.local`, which accepts the credentials testing/testing):
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export {URL_VARIABLE}=http://127.0.0.1:3000/dev
  tracking-client track PKG-1 --status in_transit --lat 52.52 --lng 13.405
  tracking-client status PKG-1
  tracking-client shipments in_transit --limit 50
against a deployed stack (its ApiEndpoint output; requests are signed for the URL's region):
  tracking-client status PKG-1 --stack-name tracking-dev --region eu-west-1

exit codes: 0 done; 1 the API answered an error (its reason on stderr) or could not be reached;
2 usage or configuration error (no credentials, no region, no such stack)."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (the project's convention)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _metadata(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per route, the API's location and the signer's options on each."""
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--url", default=os.environ.get(URL_VARIABLE) or None,
                       help=f"the API's base URL, stage included (e.g. http://127.0.0.1:3000/dev; default: ${URL_VARIABLE})")
    where.add_argument("--stack-name", help="read the URL from this stack's ApiEndpoint output")
    common.add_argument("--region", help="region to sign for (default: the URL's, else the profile's or AWS_REGION)")
    common.add_argument("--profile", help="AWS profile whose credentials sign the requests")
    common.add_argument("--endpoint-url", help="CloudFormation endpoint for --stack-name (an emulator)")
    pages = argparse.ArgumentParser(add_help=False)
    pages.add_argument("--limit", type=_positive, help="items per request (the API's limit, 1-100; default 10)")
    pages.add_argument("--last-key", help="start after this page token (a next_key printed earlier)")
    pages.add_argument("--max-pages", type=_positive,
                       help="stop after this many requests; the output's next_key then resumes (--last-key)")

    parser = _Parser(prog="tracking-client", description="Call the tracking API, signed with your AWS credentials "
                     "(SigV4, service execute-api). Prints the answer as JSON on stdout.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    track = commands.add_parser("track", parents=[common], help="POST /track one update")
    track.add_argument("tracking_id")
    track.add_argument("--status", required=True, help="pending, in_transit, delivered or failed")
    track.add_argument("--lat", type=float, required=True)
    track.add_argument("--lng", type=float, required=True)
    track.add_argument("--metadata", type=_metadata, help="a JSON object stored with the update")
    track.add_argument("--idempotency-key",
                       help="sent as Idempotency-Key (default: a new UUID; send the same one to repeat a call safely)")
    status = commands.add_parser("status", parents=[common, pages], help="GET /status: a shipment's updates")
    status.add_argument("tracking_id")
    shipments = commands.add_parser("shipments", parents=[common, pages],
                                    help="GET /shipments: the shipments whose latest update has STATUS")
    shipments.add_argument("status")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit code as EXAMPLES lists."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.url and args.stack_name and args.url == os.environ.get(URL_VARIABLE):
        args.url = None  # --stack-name given: the variable's URL was only a default
    if not args.url and not args.stack_name:
        parser.error(f"pass --url or --stack-name (or set {URL_VARIABLE})")
    try:
        session = botocore.session.Session(profile=args.profile)
        if args.url:
            client = TrackingClient(args.url, session, args.region)
        else:
            client = TrackingClient.from_stack(args.stack_name, session, args.region, args.endpoint_url)
        with client:
            result = _run(client, args)
    except ClientError as error:
        return _fail(f"error: {' '.join(str(error).split())}", error.exit_code)
    except (NoCredentialsError, PartialCredentialsError, ProfileNotFound) as error:
        return _fail(f"error: no usable AWS credentials ({error})", ConfigurationError.exit_code)
    except NoRegionError:
        return _fail("error: no AWS region: pass --region or set AWS_REGION", ConfigurationError.exit_code)
    except (BotocoreClientError, BotoCoreError) as error:  # the CloudFormation call of --stack-name
        return _fail(f"error: {' '.join(str(error).split())}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    try:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` stopped reading: not an error, and no traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _run(client: TrackingClient, args: argparse.Namespace) -> Any:
    if args.command == "track":
        return client.track(args.tracking_id, args.status, args.lat, args.lng, args.metadata,
                            idempotency_key=args.idempotency_key)
    if args.command == "status":
        pages = client.status_pages(args.tracking_id, args.limit, args.last_key)
        return _merged(pages, {"tracking_id": args.tracking_id}, "updates", args.max_pages)
    pages = client.shipments_pages(args.status, args.limit, args.last_key)
    return _merged(pages, {"status": args.status}, "shipments", args.max_pages)


def _merged(pages: Any, head: dict[str, Any], items: str, max_pages: int | None) -> dict[str, Any]:
    """The pages as one answer of the API's shape; `next_key` only when MAX_PAGES stopped early."""
    collected: list[Any] = []
    next_key = None
    for number, page in enumerate(pages, start=1):
        collected += page[items]
        next_key = page.get("next_key")
        if max_pages is not None and number >= max_pages:
            break
    answer = {**head, items: collected, "count": len(collected)}
    if next_key is not None:
        answer["next_key"] = next_key
    return answer


def _fail(line: str, code: int) -> int:
    print(line, file=sys.stderr)
    return code
