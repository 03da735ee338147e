"""python -m scripts.deploy: package, upload and deploy the stack through a change set."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from tracking_templates.cli import DEFAULT_ENV
from tracking_templates.config_flag import DEFAULT_SETTINGS_FILE, add_config_argument, find
from tracking_templates.names import ENV_PATTERN
from tracking_templates.settings import SettingsError
from tracking_templates.settings_file import load as load_settings_file

from ..aws import Aws, AwsTarget, add_aws_arguments
from ..cli import (
    STACK_INTERRUPTED,
    OneLineParser,
    non_empty,
    non_empty_path,
    parse_pairs,
    run,
    writable_file,
)
from ..console import Console
from ..errors import DeployError, UsageError
from ..package.packager import DEFAULT_OUTPUT_DIR
from .bootstrap import DEFAULT_BOOTSTRAP_STACK
from .defaults import apply_file_defaults
from .deployer import Polling
from .project import DeployOptions, deploy_stack

def _seconds(text: str) -> float:
    """A --timeout value: a positive, finite number of seconds (argparse turns the error into exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command's flags."""
    parser = OneLineParser(
        prog="python -m scripts.deploy",
        description="""\
Package, upload and deploy the stack through a CloudFormation change set: synthesize the
template (or take --template-file), upload the code content-addressed, create a change set,
print its changes, execute it while streaming the stack events, and print the outputs.

Safeguards: the replacement guard (exit 3) over nested stacks too; a stack policy denying
replacement or deletion of the template's tables; rollback triggers on the stack's API 5XX and
function-error alarms; termination protection for prod; a failed first create leaves nothing
behind (RetainExceptOnCreate); a live stack is never moved to another --env.""",
        epilog="""examples:
  python -m scripts.deploy --stack-name tracking-dev --env dev
  python -m scripts.deploy --stack-name tracking-prod --env prod --no-execute   # review the plan
into a moto server started with `python -m moto.server -p 5000` (any credentials; no zips run there):
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing python -m scripts.deploy \\
    --stack-name tracking-dev --region us-east-1 --endpoint-url http://127.0.0.1:5000 --no-deps

exit codes: 0 deployed or nothing to change; 1 the deploy failed; 2 usage or input error;
3 refused by the replacement guard; 4 timed out waiting (the stack may still be changing);
130 interrupted (what carries on in CloudFormation is said). See docs/deploy.md.""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack-name",
        help="the stack to create or update (required here or as stack_name in the settings file's "
        "[environments.ENV.deploy] table)",
    )  # fmt: skip
    parser.add_argument(
        "--env",
        help="environment: selects the template's settings (prod: termination protection, 5 "
        "minutes of rollback-trigger monitoring) and fills its Environment parameter "
        f"({ENV_PATTERN}; default {DEFAULT_ENV}; with --template-file and no --env, the "
        "template's own Environment is kept). A live stack's environment cannot be changed: "
        "deploy another environment to its own stack",
    )  # fmt: skip
    parser.add_argument("--template-file", type=non_empty_path, help="deploy this template (JSON or YAML) instead of synthesizing one")
    parser.add_argument("--bucket", type=non_empty, help="artifact bucket for code and large templates (default: the bootstrap stack's, created if missing)")
    parser.add_argument(
        "--bootstrap-stack",
        help=f"stack holding the artifact bucket when --bucket is not given (default {DEFAULT_BOOTSTRAP_STACK})",
    )  # fmt: skip
    parser.add_argument(
        "--parameter-overrides", nargs="+", default=[], metavar="K=V",
        help="template parameter values; override the code location and Environment the deploy fills in",
    )  # fmt: skip
    parser.add_argument("--tags", nargs="+", default=[], metavar="K=V", help="stack tags, propagated to the resources")
    parser.add_argument("--no-execute", action="store_true", help="stop after printing the change set and leave it for review")
    parser.add_argument(
        "--allow-replacement", action="store_true",
        help="execute even if the change set replaces, removes or changes unpredictably (Dynamic) a "
        "table, queue, bucket, KMS key, log group, database or volume, whatever its DeletionPolicy, "
        "or removes a nested stack (refused with exit 3 otherwise); lifts the stack policy "
        "protecting the tables for this one update",
    )  # fmt: skip
    parser.add_argument("--fail-on-empty-changeset", action="store_true", help="exit 1 instead of 0 when there is nothing to change")
    parser.add_argument("--outputs-file", type=non_empty_path, help="write the stack outputs as JSON")
    parser.add_argument("--no-deps", action="store_true", help="zip the function sources without their bundled dependencies (and bytecode)")
    parser.add_argument("--python", metavar="PATH", help="the CPython of the runtime's version that compiles the zips' bytecode (default: python3.13 on PATH)")
    parser.add_argument("--no-bytecode", action="store_true", help="ship the code without bytecode (slower cold starts)")
    parser.add_argument(
        "--no-upload", action="store_true",
        help="with --no-execute: name the code keys without uploading (a plan needs no s3:PutObject)",
    )  # fmt: skip
    parser.add_argument("--output-dir", type=non_empty_path, default=DEFAULT_OUTPUT_DIR, help="where the zips are built (default %(default)s)")
    parser.add_argument(
        "--timeout", type=_seconds, default=Polling.timeout,
        help="seconds to wait for the stack before giving up with exit 4 (default %(default)s)",
    )  # fmt: skip
    add_aws_arguments(parser)
    add_config_argument(parser)
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command's flags, the settings file's deploy table filling those not given (a bad flag
    or a mistake in the file: exit 2 with one line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The settings file's deploy table fills the flags not given (before any work, like a bad flag).
    try:
        settings_file = load_settings_file(find(args.config))
        apply_file_defaults(args, settings_file, args.env or DEFAULT_ENV)
    except (SettingsError, UsageError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    if args.stack_name is None:
        parser.error(f"the following arguments are required: --stack-name (or stack_name in [environments."
                     f"{args.env or DEFAULT_ENV}.deploy] of {args.config or DEFAULT_SETTINGS_FILE})")
    args.settings_file = settings_file
    return args


def write_outputs(outputs: dict[str, str], console: Console, path: Path | None) -> None:
    """Print the stack outputs; with PATH also write them there as JSON."""
    if outputs:
        console.info("Outputs:")
        width = max(len(key) for key in outputs)
        for key in sorted(outputs):
            console.info(f"  {key.ljust(width)}  {outputs[key]}")
    else:
        console.info("Outputs: (none reported)")
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as error:
            raise DeployError(f"cannot write --outputs-file {path}: {error.strerror}") from None


def main(argv: list[str] | None = None, polling: Polling | None = None) -> int:
    """Parse flags, deploy, and map the outcome to the contract's exit codes."""
    args = parse_args(argv)

    def command() -> int:
        if args.outputs_file is not None:
            writable_file(args.outputs_file, "--outputs-file")
        base = polling or Polling()
        options = DeployOptions(
            stack_name=args.stack_name,
            env=args.env,
            template_file=args.template_file,
            bucket=args.bucket,
            bootstrap_stack=args.bootstrap_stack,
            parameter_overrides={**args.file_parameter_overrides,
                                 **parse_pairs(args.parameter_overrides, "--parameter-overrides", echo=False)},
            tags={**args.file_tags, **parse_pairs(args.tags, "--tags")},
            execute=not args.no_execute,
            allow_replacement=args.allow_replacement,
            bundle_deps=not args.no_deps,
            bytecode=not args.no_bytecode,
            python=args.python,
            upload=not args.no_upload,
            output_dir=args.output_dir,
            polling=Polling(base.delay, base.backoff, base.max_delay, args.timeout),
            settings_file=args.settings_file,
        )
        console = Console()
        result = deploy_stack(options, Aws(AwsTarget(args.region, args.endpoint_url)), console)
        if result.outcome == "no-changes":
            if args.fail_on_empty_changeset:
                console.warn(f"error: no changes to deploy to stack {args.stack_name}")
                return 1
        if result.outcome != "not-executed":
            write_outputs(result.outputs, console, args.outputs_file)
        return 0

    return run(command, STACK_INTERRUPTED)

