"""`python -m scripts.local`: the whole stack on this machine, no AWS account, no Docker.

Starts an embedded moto server, deploys the real template into it with the same deploy code
users run against AWS, then serves the API as API Gateway would (SigV4 for AWS_IAM methods,
the request validator and model, Lambda proxy events) with the handler running in-process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from tracking_templates.config_flag import add_config_argument, find
from tracking_templates.names import ENV_PATTERN, is_valid_env

from ..cli import OneLineParser, check_region, non_empty
from ..errors import UsageError
from ..extras import require_extra

DEFAULT_ACCESS_KEY = "testing"
DEFAULT_SECRET_KEY = "testing"
GRACE_S = 5.0  # on SIGINT/SIGTERM: how long requests already received may take to finish
DRAIN_S = 5.0  # then how long the stream pollers may take to deliver what the API accepted
# The user's AWS configuration is for AWS: a profile, a credential process or a role in it must
# not reach the emulated stack (a stale one would stop the start with botocore's error).
_AWS_SETTINGS_IGNORED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",  # would send every call past the emulator, to AWS
)
log = logging.getLogger("scripts.local")

SIGNING_HELP = f"""\
Every method of this API uses AWS_IAM authorization, so requests must be signed with SigV4
(service execute-api, the --region given) by the credentials in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (default {DEFAULT_ACCESS_KEY} / {DEFAULT_SECRET_KEY}). Unsigned requests get 403.

The first line on stdout is the base URL (http://HOST:PORT/ENV); everything else (the deploy,
the request log, the functions' logs) goes to stderr. Stop with Ctrl-C or SIGTERM.

With the project's client (python -m tracking_client; it signs with botocore and follows pages):
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export TRACKING_API_URL=http://127.0.0.1:3000/dev
  python -m tracking_client track PKG-1 --status in_transit --lat 52.5 --lng 13.4
  python -m tracking_client status PKG-1

The raw HTTP, signed by curl (7.75 or later):
  curl --aws-sigv4 aws:amz:us-east-1:execute-api --user testing:testing \\
    -H 'Content-Type: application/json' \\
    -d '{{"tracking_id": "PKG-1", "status": "in_transit", "location": {{"lat": 52.5, "lng": 13.4}}}}' \\
    http://127.0.0.1:3000/dev/track
"""


def _env_name(value: str) -> str:
    if not is_valid_env(value):
        raise argparse.ArgumentTypeError(f"invalid environment name {value!r}: must match {ENV_PATTERN}")
    return value


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} not in 0..65535")
    return port


def _region(value: str) -> str:
    # botocore's own check, so a name boto3 would refuse fails here, before the emulator starts.
    try:
        return check_region(value)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m scripts.local`."""
    parser = OneLineParser(
        prog="python -m scripts.local",
        description="Run the logistics-tracking stack locally: an embedded AWS emulator (moto), the real "
        "template deployed into it with scripts.deploy, and the API served as API Gateway would.",
        epilog=SIGNING_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", type=non_empty, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=3000, help="port to listen on; 0 picks a free one (default 3000)")
    parser.add_argument("--env", type=_env_name, default="dev", help="environment (and stage) name (default dev)")
    parser.add_argument("--region", type=_region, default="us-east-1", help="region of the emulated stack and of signatures "
                        "(default us-east-1)")
    add_config_argument(parser)
    parser.add_argument("--no-streams", action="store_true",
                        help="do not poll the table's stream (no notifier invocations)")
    return parser


class _Interrupted(BaseException):
    """SIGINT or SIGTERM: stop serving (a BaseException so nothing on the way catches it)."""


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise _Interrupted(signum)


def _configure_logging() -> None:
    # The request log: one plain line per request on stderr, nothing from other libraries.
    from .gateway.server import configure_server_logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    configure_server_logging(logging.StreamHandler(sys.stderr))
    _quiet_emulator_logs()


def _quiet_emulator_logs() -> None:
    # werkzeug logs every emulator request and moto warns about each resource type it skips;
    # neither says anything about the user's requests.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"moto(\.|$)")


@contextmanager
def _results_stream() -> Iterator[TextIO]:
    """Yield the real stdout; meanwhile everything else written to stdout lands on stderr.

    The deploy's report, the handlers' JSON logs and metrics all print to stdout; only the
    base URL must, so that `$(... | head -1)` and test harnesses read it cleanly.
    """
    sys.stdout.flush()
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        yield results
    finally:
        if not results.closed:
            results.close()


def _start_emulator() -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def _emulator_url(server: Any) -> str:
    import urllib.request

    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # No Docker here: Lambda functions run in this process, never through moto.
    request = urllib.request.Request(
        f"{url}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    return url


def _deploy(env: str, region: str, endpoint_url: str, workdir: Path,
            settings_file: Path | None = None) -> tuple[str, dict[str, Any]]:
    """Write the template (ENV's settings from SETTINGS_FILE), deploy it with scripts.deploy;
    return the stack name and template."""
    from tracking_templates.cli import main as synth

    from ..deploy import command as deploy

    template_file = workdir / "template.json"
    config = ["--config", str(settings_file)] if settings_file is not None else []
    if synth(["--env", env, *config, "-o", str(template_file)]) != 0:
        raise RuntimeError("the template could not be written")
    stack_name = f"tracking-{env}"
    code = deploy.main(
        [
            "--stack-name", stack_name,
            "--env", env,
            "--template-file", str(template_file),
            "--region", region,
            "--endpoint-url", endpoint_url,
            # The settings are in the template already; the file's deploy table (stack, region,
            # bucket, endpoint, tags) is for AWS, not for this emulator: an empty file for it.
            "--config", os.devnull,
            # The handlers run in this process from the checkout; the uploaded zips are never
            # executed, so bundling their dependencies (pip, PyPI) would only slow the start.
            "--no-deps",
        ]
    )  # fmt: skip
    if code != 0:
        raise RuntimeError(f"scripts.deploy exited {code}")
    return stack_name, json.loads(template_file.read_text(encoding="utf-8"))


def _app(stack_name: str, template: dict[str, Any], region: str, domain_name: str, streams: bool) -> Any:
    import boto3

    from .gateway.app import assemble
    from .gateway.sigv4 import Credentials

    credentials = Credentials(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN") or None
    )
    return assemble(boto3.Session(region_name=region), stack_name, template, domain_name, credentials, streams)


def _configure_process(region: str, endpoint_url: str | None = None) -> None:
    for name in [*_AWS_SETTINGS_IGNORED, *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_"))]:
        os.environ.pop(name, None)  # AWS_ENDPOINT_URL_<SERVICE> would win over the emulator's URL
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ.setdefault("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    if endpoint_url:
        # Every boto3 client in this process (deploy, handlers) talks to the emulator only.
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url


def _since(started: float) -> float:
    return time.monotonic() - started


def _stop_serving(server: Any, app: Any) -> None:
    """Stop accepting, finish the requests already received, then drain the stream pollers."""
    if server is not None:
        report = server.shutdown(GRACE_S)
        if report.unanswered:
            log.warning(
                "%d request(s) received before the stop got no answer within %.0fs: %d of them stored "
                "(a client retry stores each again unless it carries an Idempotency-Key), %d still "
                "running in the function (they may be stored too)",
                report.unanswered, GRACE_S, report.stored, report.in_function,
            )  # fmt: skip
    if app is not None:
        undelivered = app.stop(DRAIN_S)
        if undelivered:
            log.warning("%d stream record(s) were not delivered to their function (their notifications are lost)",
                        undelivered)


def main(argv: list[str] | None = None) -> int:
    """Parse flags, deploy into an embedded emulator, serve until SIGINT/SIGTERM; return the exit code."""
    started = time.monotonic()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # before anything imports them: one line, not a ModuleNotFoundError traceback
        require_extra("local", "python -m scripts.local")
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    settings_file = find(args.config)
    from tracking_templates.settings import SettingsError
    from tracking_templates.settings_file import load

    try:
        load(settings_file)  # now, so a mistake in it is exit 2 before anything starts
    except SettingsError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    _configure_logging()
    _configure_process(args.region)

    from .gateway.server import LocalApiServer

    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    emulator = None
    app = None
    server = None
    ready = False
    try:
        with _results_stream() as results:
            try:
                server = LocalApiServer((args.host, args.port))
            except OSError as error:
                print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
                return 1
            emulator = _start_emulator()
            endpoint_url = _emulator_url(emulator)
            _configure_process(args.region, endpoint_url)
            log.info("emulator at %s (%.2fs); deploying the %s stack into it", endpoint_url, _since(started), args.env)
            with tempfile.TemporaryDirectory(prefix="tracking-local-") as workdir:
                stack_name, template = _deploy(args.env, args.region, endpoint_url, Path(workdir), settings_file)
            log.info("deployed %s (%.2fs)", stack_name, _since(started))
            app = _app(stack_name, template, args.region, server.base_host, streams=not args.no_streams)
            server.gateway = app.gateway
            app.start()
            server.start()
            ready = True
            base_url = f"http://{server.base_host}/{server.gateway.api.stage_name}"
            print(base_url, file=results, flush=True)
            results.close()
            log.info("serving %s on %s (ready in %.2fs; Ctrl-C to stop)",
                     ", ".join(server.gateway.api.resource_paths()), base_url, _since(started))
            log.info("the emulated stack's state is in memory and ends with this process")
            threading.Event().wait()
    except _Interrupted:
        if not ready:
            print("interrupted before the API was ready", file=sys.stderr)
    except RuntimeError as error:  # an expected failure (the deploy's own report is above it)
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception:  # a bug or an emulator gap: the traceback is what helps
        log.exception("error: the local stack could not start")
        return 1
    finally:
        try:
            if ready:
                log.info("stopping: finishing requests in progress, then the stream deliveries (Ctrl-C again: "
                         "stop now)")
            _stop_serving(server, app)
        except _Interrupted:  # a second Ctrl-C: the user does not want to wait
            log.warning("stopped without waiting for requests in progress or stream deliveries")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if emulator is not None:
                emulator.stop()
    if not ready:
        return 130
    log.info("stopped")
    return 0

